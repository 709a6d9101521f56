/**
 * BlobStore on S3 or any S3-compatible server (MinIO, Ceph, Garage, R2…), with AWS SDK v3.
 *
 * Bodies arrive as streams of unknown length (uploads piped straight from the request), so put
 * buffers at most one part in memory: a body that fits in one part goes out as a single
 * PutObject, anything larger as a multipart upload that is aborted on any failure, including
 * maxBytes being exceeded. S3 only makes an object visible on PutObject/CompleteMultipartUpload,
 * so a failed put never exposes a partial blob and leaves any previous one under the key intact.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import type { BlobStore, PutOptions } from '../../app/ports.ts';
import { KycError } from '../../domain/errors.ts';
import { assertBlobKey, assertMaxBytes, bodyChunks, payloadTooLarge } from './common.ts';

const MiB = 1024 * 1024;
/** S3's floor for every part but the last. */
export const MIN_PART_SIZE = 5 * MiB;
const DEFAULT_PART_SIZE = 8 * MiB;
const MAX_PARTS = 10_000;

export interface S3BlobStoreOptions {
  bucket: string;
  /** Prepended to every key, joined with '/'. */
  prefix?: string;
  /** For S3-compatible servers, e.g. http://minio:9000. */
  endpoint?: string;
  region?: string;
  /** Both or neither; when neither, the SDK's default chain applies (env vars, profile, instance/task role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
  /** A ready client (tests, custom middleware); endpoint/region/credentials are then ignored. */
  client?: S3Client;
  /** Multipart part size and single-PutObject threshold, ≥ 5 MiB. Also the memory held per upload. */
  partSize?: number;
}

const notFound = (): KycError => new KycError('not_found', 'blob not found');

function isNoSuchKey(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!err) return false;
  if (err.name === 'NoSuchKey' || err.name === 'NotFound') return true;
  // A missing bucket is a deployment error, not a missing blob: let it surface as such.
  return err.$metadata?.httpStatusCode === 404 && err.name !== 'NoSuchBucket';
}

export function createS3BlobStore(opts: S3BlobStoreOptions): BlobStore {
  const Bucket = opts.bucket;
  if (!Bucket) throw new KycError('invalid_request', 'S3 bucket is required', { param: 'bucket' });
  const prefix = normalizePrefix(opts.prefix ?? '');
  const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE) {
    throw new KycError('invalid_request', `S3 part size must be at least ${MIN_PART_SIZE} bytes`, {
      param: 'partSize',
    });
  }
  const client = opts.client ?? new S3Client(clientConfig(opts));

  const objectKey = (key: string): string => {
    assertBlobKey(key);
    return prefix ? `${prefix}/${key}` : key;
  };

  return {
    async put(key: string, body: Buffer | Readable, putOpts: PutOptions = {}): Promise<{ bytes: number }> {
      const Key = objectKey(key);
      const { maxBytes, contentType: ContentType } = putOpts;
      assertMaxBytes(maxBytes);
      if (Buffer.isBuffer(body) && maxBytes !== undefined && body.length > maxBytes) throw payloadTooLarge(maxBytes);

      let pending: Buffer[] = [];
      let pendingLen = 0;
      let total = 0;
      let uploadId: string | undefined;
      const parts: CompletedPart[] = [];

      const takePending = (): Buffer => {
        const buf = Buffer.concat(pending, pendingLen);
        pending = [];
        pendingLen = 0;
        return buf;
      };
      const uploadPart = async (Body: Buffer): Promise<void> => {
        const PartNumber = parts.length + 1;
        if (PartNumber > MAX_PARTS) throw new KycError('payload_too_large', 'body exceeds the S3 multipart limit');
        const r = await client.send(
          new UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber, Body, ContentLength: Body.length }),
        );
        parts.push({ PartNumber, ETag: r.ETag });
      };

      try {
        for await (let chunk of bodyChunks(body)) {
          total += chunk.length;
          if (maxBytes !== undefined && total > maxBytes) throw payloadTooLarge(maxBytes);
          // Slicing to exact part boundaries bounds memory to one part whatever the caller's chunk size.
          while (chunk.length > 0) {
            const take = Math.min(partSize - pendingLen, chunk.length);
            pending.push(chunk.subarray(0, take));
            pendingLen += take;
            chunk = chunk.subarray(take);
            if (pendingLen === partSize && chunk.length > 0) {
              // Only start multipart once we know there is more than one part's worth.
              if (uploadId === undefined) {
                const r = await client.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType }));
                if (!r.UploadId) throw new Error('S3 returned no UploadId');
                uploadId = r.UploadId;
              }
              await uploadPart(takePending());
            }
          }
          // A full part whose successor is still unknown stays pending: if the body ends here it goes out as PutObject.
          if (pendingLen === partSize && uploadId !== undefined) await uploadPart(takePending());
        }

        if (uploadId === undefined) {
          const Body = takePending();
          await client.send(new PutObjectCommand({ Bucket, Key, Body, ContentLength: Body.length, ContentType }));
        } else {
          if (pendingLen > 0) await uploadPart(takePending());
          await client.send(
            new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
          );
        }
      } catch (err) {
        if (uploadId !== undefined) {
          // Best effort: parts of an aborted upload are never visible as an object; a bucket lifecycle rule
          // (AbortIncompleteMultipartUpload) reclaims them if this call fails too.
          await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId })).catch(() => {});
        }
        throw err;
      }
      return { bytes: total };
    },

    async get(key: string): Promise<Readable> {
      const Key = objectKey(key);
      try {
        const r = await client.send(new GetObjectCommand({ Bucket, Key }));
        if (!r.Body) return Readable.from([]);
        // In Node the SDK's Body is an http.IncomingMessage (a Readable) with helper methods mixed in.
        return r.Body as Readable;
      } catch (e) {
        if (isNoSuchKey(e)) throw notFound();
        throw e;
      }
    },

    async delete(key: string): Promise<void> {
      // S3 DeleteObject already succeeds on an absent key.
      await client.send(new DeleteObjectCommand({ Bucket, Key: objectKey(key) }));
    },

    async exists(key: string): Promise<boolean> {
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key: objectKey(key) }));
        return true;
      } catch (e) {
        if (isNoSuchKey(e)) return false;
        throw e;
      }
    },
  };
}

function clientConfig(opts: S3BlobStoreOptions): S3ClientConfig {
  const { endpoint, region, accessKeyId, secretAccessKey, forcePathStyle } = opts;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new KycError('invalid_request', 'S3 accessKeyId and secretAccessKey must be given together', {
      param: 'accessKeyId',
    });
  }
  const config: S3ClientConfig = {
    // Most S3-compatible servers ignore the region but the SDK refuses to sign without one.
    region: region ?? (endpoint ? 'us-east-1' : undefined),
    endpoint,
    forcePathStyle,
  };
  if (accessKeyId && secretAccessKey) config.credentials = { accessKeyId, secretAccessKey };
  if (endpoint) {
    // The SDK's default flexible checksums (CRC32 headers/trailers) are not understood by every
    // S3-compatible server; SigV4 still signs each request and the encryption layer authenticates content.
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  return config;
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  for (const segment of trimmed.split('/')) {
    if (segment === '' || segment === '.' || segment === '..' || /[\u0000-\u001f\u007f]/.test(segment)) {
      throw new KycError('invalid_request', 'invalid S3 key prefix', { param: 'prefix' });
    }
  }
  return trimmed;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses `s3://bucket[/prefix][?region=…&endpoint=…&forcePathStyle=true]` into options for
 * createS3BlobStore. Credentials are deliberately not accepted in the URL (URLs end up in logs
 * and process listings): give them as separate settings or through the SDK's default chain.
 */
export function parseBlobStoreUrl(
  url: string,
): Pick<S3BlobStoreOptions, 'bucket' | 'prefix' | 'region' | 'endpoint' | 'forcePathStyle'> {
  const invalid = (why: string): KycError =>
    new KycError('invalid_request', `invalid blob store URL: ${why}`, { param: 'blobStore' });
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid('expected s3://bucket/prefix');
  }
  if (u.protocol !== 's3:') throw invalid('scheme must be s3://');
  if (u.username || u.password) throw invalid('credentials are not accepted in the URL');
  if (u.port || u.hash) throw invalid('expected s3://bucket/prefix');
  const bucket = u.hostname;
  if (!BUCKET_NAME.test(bucket)) throw invalid('bad bucket name');

  const out: ReturnType<typeof parseBlobStoreUrl> = { bucket };
  // From the raw string, not u.pathname: URL parsing would quietly resolve "a/../b" to "b".
  const rest = url.slice(url.indexOf('//') + 2).split(/[?#]/)[0];
  const slash = rest.indexOf('/');
  let path: string;
  try {
    path = slash < 0 ? '' : decodeURIComponent(rest.slice(slash));
  } catch {
    throw invalid('bad prefix');
  }
  const prefix = normalizePrefix(path);
  if (prefix) out.prefix = prefix;

  for (const [name, value] of u.searchParams) {
    switch (name) {
      case 'region':
        if (!/^[a-z0-9-]+$/.test(value)) throw invalid('bad region');
        out.region = value;
        break;
      case 'endpoint': {
        let e: URL;
        try {
          e = new URL(value);
        } catch {
          throw invalid('bad endpoint');
        }
        if ((e.protocol !== 'http:' && e.protocol !== 'https:') || e.username || e.password)
          throw invalid('bad endpoint');
        out.endpoint = value;
        break;
      }
      case 'forcePathStyle':
        if (value !== 'true' && value !== 'false') throw invalid('forcePathStyle must be true or false');
        out.forcePathStyle = value === 'true';
        break;
      default:
        // Refusing unknown parameters catches typos that would otherwise silently change nothing.
        throw invalid(`unknown parameter ${JSON.stringify(name)}`);
    }
  }
  return out;
}
