/**
 * The BlobStore contract: every adapter (disk, S3) and the encryption decorator over each of
 * them must pass the same suite. S3 runs against a real S3-protocol server (s3rver) on a
 * random local port, so multipart uploads, aborts and error codes go over the wire.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobStore } from '../../src/app/ports.ts';
import { isKycError, type KycErrorCode } from '../../src/domain/errors.ts';
import { createDiskBlobStore } from '../../src/storage/blob/disk.ts';
import { createEncryptedBlobStore, type BlobKeyring } from '../../src/storage/blob/encrypted.ts';
import { createS3BlobStore, MIN_PART_SIZE } from '../../src/storage/blob/s3.ts';

const MiB = 1024 * 1024;

interface BlobStoreFixture {
  store: BlobStore;
  /** The store under the encryption decorator, if any: lets the suite read and damage the ciphertext. */
  inner?: BlobStore;
  /** Every file on the backing medium, when it can be listed: proves a failed put leaves nothing behind. */
  files?(): Promise<string[]>;
}

// ---------------------------------------------------------------------------------------------
// helpers

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const getAll = async (store: BlobStore, key: string): Promise<Buffer> => readAll(await store.get(key));

/** A stream of data in irregular chunk sizes, the way a network upload arrives. */
function chunked(data: Buffer, maxChunk = 300 * 1024): Readable {
  let seed = data.length || 1;
  const sizes: number[] = [];
  for (let off = 0; off < data.length; ) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const n = Math.min(1 + (seed % maxChunk), data.length - off);
    sizes.push(n);
    off += n;
  }
  return Readable.from(
    (function* () {
      let off = 0;
      for (const n of sizes) {
        yield data.subarray(off, off + n);
        off += n;
      }
    })(),
    { objectMode: false },
  );
}

/** A stream that yields some data, then fails like a dropped client connection. */
function failingStream(before: number): Readable {
  return Readable.from(
    (async function* () {
      yield randomBytes(before);
      throw new Error('client went away');
    })(),
    { objectMode: false },
  );
}

const kycCode =
  (code: KycErrorCode) =>
  (e: unknown): boolean => {
    assert.ok(isKycError(e), `expected a KycError(${code}), got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  };

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
  }
  return out.sort();
}

// ---------------------------------------------------------------------------------------------
// the contract

function blobStoreContract(
  name: string,
  setup: () => Promise<BlobStoreFixture>,
  opts: { encrypted?: boolean } = {},
): void {
  describe(name, () => {
    let f: BlobStoreFixture;
    let n = 0;
    const k = (label: string): string => `verif-${n++}/${label}`;
    before(async () => {
      f = await setup();
    });

    it('round-trips a Buffer', async () => {
      const key = k('front.jpg');
      const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
      assert.deepEqual(await f.store.put(key, data, { contentType: 'image/jpeg' }), { bytes: data.length });
      assert.ok((await getAll(f.store, key)).equals(data));
    });

    it('round-trips a multi-MB Readable arriving in irregular chunks', async () => {
      const key = k('face.webm');
      const data = randomBytes(12 * MiB + 12345);
      assert.deepEqual(await f.store.put(key, chunked(data), { contentType: 'video/webm', maxBytes: 50 * MiB }), {
        bytes: data.length,
      });
      assert.equal(sha(await getAll(f.store, key)), sha(data));
    });

    it('round-trips a stream whose length is an exact multiple of the S3 part and encryption chunk sizes', async () => {
      const key = k('exact.bin');
      const data = randomBytes(MIN_PART_SIZE);
      assert.deepEqual(await f.store.put(key, chunked(data, 64 * 1024)), { bytes: data.length });
      assert.equal(sha(await getAll(f.store, key)), sha(data));
      const twice = randomBytes(2 * MIN_PART_SIZE);
      await f.store.put(key, chunked(twice));
      assert.equal(sha(await getAll(f.store, key)), sha(twice));
    });

    it('round-trips an empty blob, as Buffer and as Readable', async () => {
      const a = k('empty-a');
      const b = k('empty-b');
      assert.deepEqual(await f.store.put(a, Buffer.alloc(0)), { bytes: 0 });
      assert.deepEqual(await f.store.put(b, Readable.from([], { objectMode: false })), { bytes: 0 });
      assert.equal((await getAll(f.store, a)).length, 0);
      assert.equal((await getAll(f.store, b)).length, 0);
      assert.equal(await f.store.exists(a), true);
    });

    it('overwrites', async () => {
      const key = k('doc.pdf');
      await f.store.put(key, randomBytes(200_000));
      const second = Buffer.from('shorter second version');
      await f.store.put(key, second);
      assert.ok((await getAll(f.store, key)).equals(second));
    });

    it('get of a missing key rejects with not_found', async () => {
      await assert.rejects(f.store.get(k('missing')), kycCode('not_found'));
    });

    it('exists tells present from absent', async () => {
      const key = k('x');
      assert.equal(await f.store.exists(key), false);
      await f.store.put(key, Buffer.from('x'));
      assert.equal(await f.store.exists(key), true);
    });

    it('delete removes, and is idempotent', async () => {
      const key = k('to-delete');
      await f.store.delete(key);
      await f.store.put(key, Buffer.from('bye'));
      await f.store.delete(key);
      assert.equal(await f.store.exists(key), false);
      await assert.rejects(f.store.get(key), kycCode('not_found'));
      await f.store.delete(key);
    });

    it('accepts a body of exactly maxBytes', async () => {
      const key = k('limit');
      const data = randomBytes(1000);
      assert.deepEqual(await f.store.put(key, chunked(data, 100), { maxBytes: 1000 }), { bytes: 1000 });
      assert.ok((await getAll(f.store, key)).equals(data));
    });

    it('refuses a Buffer over maxBytes and stores nothing', async () => {
      const key = k('too-big-buffer');
      const filesBefore = await f.files?.();
      await assert.rejects(f.store.put(key, randomBytes(1001), { maxBytes: 1000 }), kycCode('payload_too_large'));
      assert.equal(await f.store.exists(key), false);
      assert.deepEqual(await f.files?.(), filesBefore);
    });

    it('refuses a stream over maxBytes (small and multi-part) and stores nothing', async () => {
      const small = k('too-big-small');
      const large = k('too-big-large');
      const filesBefore = await f.files?.();
      await assert.rejects(
        f.store.put(small, chunked(randomBytes(5000), 700), { maxBytes: 4999 }),
        kycCode('payload_too_large'),
      );
      // Past the first S3 part, so a multipart upload is under way when the limit trips.
      await assert.rejects(
        f.store.put(large, chunked(randomBytes(12 * MiB)), { maxBytes: 7 * MiB }),
        kycCode('payload_too_large'),
      );
      assert.equal(await f.store.exists(small), false);
      assert.equal(await f.store.exists(large), false);
      await assert.rejects(f.store.get(large), kycCode('not_found'));
      assert.deepEqual(await f.files?.(), filesBefore, 'no temp file may be left behind');
    });

    it('a refused overwrite leaves the previous blob intact', async () => {
      const key = k('keep');
      const original = Buffer.from('original');
      await f.store.put(key, original);
      await assert.rejects(
        f.store.put(key, chunked(randomBytes(6 * MiB)), { maxBytes: MiB }),
        kycCode('payload_too_large'),
      );
      assert.ok((await getAll(f.store, key)).equals(original));
    });

    it('a failing source stream fails the put and stores nothing', async () => {
      const key = k('broken-upload');
      const filesBefore = await f.files?.();
      await assert.rejects(f.store.put(key, failingStream(100_000)), /client went away/);
      await assert.rejects(f.store.put(key, failingStream(6 * MiB)), /client went away/);
      assert.equal(await f.store.exists(key), false);
      assert.deepEqual(await f.files?.(), filesBefore);
    });

    it('rejects keys outside the key alphabet with invalid_request', async () => {
      for (const bad of [
        '',
        '../x',
        'a/../b',
        'a/./b',
        '/abs',
        'a//b',
        'a/',
        '.hidden',
        'a/.tmp',
        'UPPER',
        'sp ace',
        'a\\b',
        'é',
        'a\0b',
        'x'.repeat(513),
      ]) {
        await assert.rejects(
          f.store.put(bad, Buffer.from('x')),
          kycCode('invalid_request'),
          `put ${JSON.stringify(bad)}`,
        );
        await assert.rejects(f.store.get(bad), kycCode('invalid_request'), `get ${JSON.stringify(bad)}`);
        await assert.rejects(f.store.exists(bad), kycCode('invalid_request'), `exists ${JSON.stringify(bad)}`);
        await assert.rejects(f.store.delete(bad), kycCode('invalid_request'), `delete ${JSON.stringify(bad)}`);
      }
    });

    if (opts.encrypted)
      describe('encryption at rest', () => {
        const integrityFailure = kycCode('internal');
        const raw = (key: string): Promise<Buffer> => getAll(f.inner!, key);
        const plaintext = Buffer.concat([Buffer.from('PASSPORT<<DOE<<JOHN '.repeat(20)), randomBytes(300_000)]);
        let key: string;
        let stored: Buffer;

        before(async () => {
          assert.ok(f.inner, 'an encrypted fixture must expose its inner store');
          key = k('sealed.jpg');
          await f.store.put(key, plaintext);
          stored = await raw(key);
        });

        it('stores ciphertext, not plaintext', async () => {
          assert.equal(stored.subarray(0, 4).toString(), 'KLB1');
          assert.ok(stored.length > plaintext.length);
          assert.equal(stored.indexOf(plaintext.subarray(0, 32)), -1);
          assert.equal(stored.indexOf(Buffer.from('PASSPORT')), -1);
          assert.equal(stored.indexOf(plaintext.subarray(200_000, 200_032)), -1);
        });

        it('fails get when any one byte of the ciphertext is changed', async () => {
          const positions = [
            0,
            4,
            5,
            30,
            40,
            60,
            61,
            100,
            65_000,
            65_600,
            200_000,
            stored.length - 17,
            stored.length - 1,
          ];
          for (const pos of positions) {
            const bad = Buffer.from(stored);
            bad[pos] ^= 0x01;
            const tampered = k('tampered');
            await f.inner!.put(tampered, bad);
            await assert.rejects(getAll(f.store, tampered), integrityFailure, `byte ${pos}`);
          }
        });

        it('fails get on truncated or extended ciphertext', async () => {
          const variants = {
            'last byte dropped': stored.subarray(0, stored.length - 1),
            'half dropped': stored.subarray(0, stored.length >> 1),
            'header only': stored.subarray(0, 5 + stored[4] + 32 + 8),
            'magic only': stored.subarray(0, 4),
            empty: Buffer.alloc(0),
            'byte appended': Buffer.concat([stored, Buffer.from([0])]),
            doubled: Buffer.concat([stored, stored]),
          };
          for (const [what, bad] of Object.entries(variants)) {
            const tampered = k('truncated');
            await f.inner!.put(tampered, bad);
            await assert.rejects(getAll(f.store, tampered), integrityFailure, what);
          }
        });

        it('fails get when the ciphertext is copied under another key', async () => {
          const other = k('moved.jpg');
          await f.inner!.put(other, stored);
          await assert.rejects(getAll(f.store, other), integrityFailure);
          // The original still decrypts: the failure is about the key name, not the bytes.
          assert.ok((await getAll(f.store, key)).equals(plaintext));
        });

        it('maxBytes applies to the plaintext', async () => {
          const exact = k('exact-plain');
          assert.deepEqual(await f.store.put(exact, randomBytes(70_000), { maxBytes: 70_000 }), { bytes: 70_000 });
          assert.ok((await raw(exact)).length > 70_000);
          await assert.rejects(
            f.store.put(k('over-plain'), chunked(randomBytes(70_001), 9000), { maxBytes: 70_000 }),
            kycCode('payload_too_large'),
          );
        });
      });
  });
}

// ---------------------------------------------------------------------------------------------
// the adapters under test

const tempDirs: string[] = [];
const tempDir = async (label: string): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), `kyclive-${label}-`));
  tempDirs.push(d);
  return d;
};

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;

let s3: Promise<{ endpoint: string; server: S3rverInstance }> | undefined;
/** One s3rver for the whole file, started by whichever S3 fixture comes first. */
function s3rver(): Promise<{ endpoint: string; server: S3rverInstance }> {
  s3 ??= (async () => {
    // s3rver ships no type declarations; it is a CommonJS devDependency used only here.
    const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;
    const directory = await tempDir('s3rver');
    const server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory,
      configureBuckets: [{ name: 'kyclive-test' }],
    });
    const { port } = await server.run();
    return { endpoint: `http://127.0.0.1:${port}`, server };
  })();
  return s3;
}

async function s3Store(): Promise<BlobStore> {
  const { endpoint } = await s3rver();
  return createS3BlobStore({
    bucket: 'kyclive-test',
    prefix: `run-${randomBytes(4).toString('hex')}/blobs`,
    endpoint,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
    // The smallest part S3 allows, so the multi-MB cases above do go multipart.
    partSize: MIN_PART_SIZE,
  });
}

const keyring = (): BlobKeyring => ({
  current: { id: 'k2026', key: randomBytes(32) },
  others: [{ id: 'k2025', key: randomBytes(32) }],
});

after(async () => {
  if (s3) await (await s3).server.close();
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

blobStoreContract('disk', async () => {
  const root = await tempDir('disk');
  return { store: createDiskBlobStore(root), files: () => listFiles(root) };
});

blobStoreContract('s3 (s3rver)', async () => ({ store: await s3Store() }));

blobStoreContract(
  'encrypted over disk',
  async () => {
    const root = await tempDir('enc-disk');
    const inner = createDiskBlobStore(root);
    return { store: createEncryptedBlobStore(inner, keyring()), inner, files: () => listFiles(root) };
  },
  { encrypted: true },
);

blobStoreContract(
  'encrypted over s3 (s3rver)',
  async () => {
    const inner = await s3Store();
    return { store: createEncryptedBlobStore(inner, keyring()), inner };
  },
  { encrypted: true },
);
