import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { isKycError } from '../../domain/errors.ts';
import { createS3BlobStore, MIN_PART_SIZE, parseBlobStoreUrl } from './s3.ts';

interface Call {
  command: string;
  input: Record<string, unknown>;
  bodyLength?: number;
}

/** Records the S3 calls; answers like S3 would, optionally failing one command. */
function fakeClient(opts: { failOn?: string; respond?: (command: string) => unknown } = {}) {
  const calls: Call[] = [];
  const client = {
    async send(cmd: { constructor: { name: string }; input: Record<string, unknown> }) {
      const command = cmd.constructor.name.replace(/Command$/, '');
      const body = cmd.input.Body;
      calls.push({ command, input: cmd.input, bodyLength: Buffer.isBuffer(body) ? body.length : undefined });
      if (opts.failOn === command)
        throw Object.assign(new Error('InternalError'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
      const custom = opts.respond?.(command);
      if (custom instanceof Error) throw custom;
      if (custom !== undefined) return custom;
      if (command === 'CreateMultipartUpload') return { UploadId: 'up-1' };
      if (command === 'UploadPart') return { ETag: `"etag-${calls.length}"` };
      return {};
    },
  };
  return { client: client as unknown as S3Client, calls };
}

const stream = (total: number, chunk = 777_777): Readable =>
  Readable.from(
    (function* () {
      for (let off = 0; off < total; off += chunk) yield randomBytes(Math.min(chunk, total - off));
    })(),
    { objectMode: false },
  );
const names = (calls: Call[]): string[] => calls.map((c) => c.command);
const P = MIN_PART_SIZE;

describe('S3 blob store', () => {
  it('sends a body of up to one part as a single PutObject', async () => {
    for (const size of [0, 1, P - 1, P]) {
      const { client, calls } = fakeClient();
      const store = createS3BlobStore({ bucket: 'b', client, partSize: P });
      assert.deepEqual(await store.put('k', stream(size), { contentType: 'image/jpeg' }), { bytes: size });
      assert.deepEqual(names(calls), ['PutObject'], `size ${size}`);
      assert.equal(calls[0].bodyLength, size);
      assert.equal(calls[0].input.ContentLength, size);
      assert.equal(calls[0].input.ContentType, 'image/jpeg');
    }
  });

  it('goes multipart past one part, with exact part sizes and ordered numbers', async () => {
    const { client, calls } = fakeClient();
    const store = createS3BlobStore({ bucket: 'b', prefix: '/tenant-a/kyc/', client, partSize: P });
    assert.deepEqual(await store.put('v/face.webm', stream(2 * P + 123), { contentType: 'video/webm' }), {
      bytes: 2 * P + 123,
    });
    assert.deepEqual(names(calls), [
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
    ]);
    assert.deepEqual(
      calls.filter((c) => c.command === 'UploadPart').map((c) => [c.input.PartNumber, c.bodyLength]),
      [
        [1, P],
        [2, P],
        [3, 123],
      ],
    );
    assert.ok(calls.every((c) => c.input.Key === 'tenant-a/kyc/v/face.webm' && c.input.Bucket === 'b'));
    assert.equal(calls[0].input.ContentType, 'video/webm');
    const parts = (calls[4].input.MultipartUpload as { Parts: { PartNumber: number; ETag: string }[] }).Parts;
    assert.deepEqual(
      parts.map((p) => p.PartNumber),
      [1, 2, 3],
    );
  });

  it('sends an exact multiple of the part size without an empty trailing part', async () => {
    const { client, calls } = fakeClient();
    const store = createS3BlobStore({ bucket: 'b', client, partSize: P });
    await store.put('k', stream(2 * P));
    assert.deepEqual(names(calls), ['CreateMultipartUpload', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload']);
    // One big Buffer is split into parts too, so memory stays bounded by the part size.
    const big = fakeClient();
    await createS3BlobStore({ bucket: 'b', client: big.client, partSize: P }).put('k', randomBytes(2 * P + 1));
    assert.deepEqual(
      big.calls.filter((c) => c.command === 'UploadPart').map((c) => c.bodyLength),
      [P, P, 1],
    );
  });

  it('over maxBytes within the first part: sends nothing at all', async () => {
    const { client, calls } = fakeClient();
    const store = createS3BlobStore({ bucket: 'b', client, partSize: P });
    await assert.rejects(
      store.put('k', stream(3 * 1024 * 1024), { maxBytes: 1024 * 1024 }),
      (e: unknown) => isKycError(e) && e.code === 'payload_too_large',
    );
    await assert.rejects(
      store.put('k', randomBytes(11), { maxBytes: 10 }),
      (e: unknown) => isKycError(e) && e.code === 'payload_too_large',
    );
    assert.deepEqual(calls, []);
  });

  it('over maxBytes after some parts: aborts the upload, never completes it', async () => {
    const { client, calls } = fakeClient();
    const store = createS3BlobStore({ bucket: 'b', client, partSize: P });
    await assert.rejects(
      store.put('k', stream(4 * P), { maxBytes: 2 * P + 5 }),
      (e: unknown) => isKycError(e) && e.code === 'payload_too_large',
    );
    assert.deepEqual(names(calls).slice(0, 2), ['CreateMultipartUpload', 'UploadPart']);
    assert.ok(!names(calls).includes('CompleteMultipartUpload'));
    assert.equal(calls.at(-1)!.command, 'AbortMultipartUpload');
    assert.equal(calls.at(-1)!.input.UploadId, 'up-1');
  });

  it('aborts when a part or the completion fails, and reports the original error', async () => {
    for (const failOn of ['UploadPart', 'CompleteMultipartUpload']) {
      const { client, calls } = fakeClient({ failOn });
      const store = createS3BlobStore({ bucket: 'b', client, partSize: P });
      await assert.rejects(store.put('k', stream(P + 1)), /InternalError/);
      assert.equal(calls.at(-1)!.command, 'AbortMultipartUpload', failOn);
    }
  });

  it('maps NoSuchKey / 404 to not_found, but not a missing bucket', async () => {
    const notFound = Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    const headNotFound = Object.assign(new Error('UnknownError'), {
      name: 'NotFound',
      $metadata: { httpStatusCode: 404 },
    });
    const noBucket = Object.assign(new Error('NoSuchBucket'), {
      name: 'NoSuchBucket',
      $metadata: { httpStatusCode: 404 },
    });

    const a = createS3BlobStore({ bucket: 'b', client: fakeClient({ respond: () => notFound }).client });
    await assert.rejects(a.get('k'), (e: unknown) => isKycError(e) && e.code === 'not_found');
    const b = createS3BlobStore({ bucket: 'b', client: fakeClient({ respond: () => headNotFound }).client });
    assert.equal(await b.exists('k'), false);
    const c = createS3BlobStore({ bucket: 'b', client: fakeClient({ respond: () => noBucket }).client });
    await assert.rejects(c.get('k'), /NoSuchBucket/);
    await assert.rejects(c.exists('k'), /NoSuchBucket/);
  });

  it('refuses a part size below the S3 minimum and half-given credentials', () => {
    assert.throws(
      () => createS3BlobStore({ bucket: 'b', partSize: P - 1 }),
      (e: unknown) => isKycError(e) && e.code === 'invalid_request',
    );
    assert.throws(
      () => createS3BlobStore({ bucket: 'b', region: 'eu-west-3', accessKeyId: 'AKIA' }),
      (e: unknown) => isKycError(e) && e.code === 'invalid_request',
    );
    assert.throws(
      () => createS3BlobStore({ bucket: '' }),
      (e: unknown) => isKycError(e) && e.code === 'invalid_request',
    );
  });
});

describe('parseBlobStoreUrl', () => {
  it('parses bucket, prefix and options', () => {
    assert.deepEqual(parseBlobStoreUrl('s3://kyc-prod'), { bucket: 'kyc-prod' });
    assert.deepEqual(parseBlobStoreUrl('s3://kyc-prod/'), { bucket: 'kyc-prod' });
    assert.deepEqual(parseBlobStoreUrl('s3://kyc.prod/eu/blobs/'), { bucket: 'kyc.prod', prefix: 'eu/blobs' });
    assert.deepEqual(parseBlobStoreUrl('s3://kyc/p?region=eu-west-3&endpoint=http://minio:9000&forcePathStyle=true'), {
      bucket: 'kyc',
      prefix: 'p',
      region: 'eu-west-3',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
    });
  });

  it('refuses anything else', () => {
    for (const bad of [
      'kyc',
      'http://kyc/x',
      's3://',
      's3://Kyc',
      's3://ab',
      's3://-kyc',
      's3://user:secret@kyc',
      's3://kyc:9000',
      's3://kyc/a/../b',
      's3://kyc/a/%2e%2e/b',
      's3://kyc/./b',
      's3://kyc/a//b',
      's3://kyc?region=EU WEST',
      's3://kyc?endpoint=ftp://x',
      's3://kyc?forcePathStyle=yes',
      's3://kyc?accessKeyId=x',
      's3://kyc/%E0%A4%A',
      's3://kyc#frag',
    ]) {
      assert.throws(
        () => parseBlobStoreUrl(bad),
        (e: unknown) => isKycError(e) && e.code === 'invalid_request',
        bad,
      );
    }
  });

  it('never echoes credentials back', () => {
    assert.throws(
      () => parseBlobStoreUrl('s3://AKIAXXXX:topsecret@kyc/p'),
      (e: unknown) => isKycError(e) && !e.message.includes('topsecret'),
    );
  });
});
