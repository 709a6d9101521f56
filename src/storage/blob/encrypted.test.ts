import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobStore } from '../../app/ports.ts';
import { isKycError, KycError, type KycErrorCode } from '../../domain/errors.ts';
import {
  CHUNK_SIZE,
  createEncryptedBlobStore,
  deriveKeyId,
  parseKeyringFromConfig,
  type BlobKey,
} from './encrypted.ts';

/** Plain in-memory store: lets the tests see and rearrange the exact bytes at rest. */
function memoryStore(): BlobStore & { data: Map<string, Buffer> } {
  const data = new Map<string, Buffer>();
  return {
    data,
    async put(key, body) {
      const chunks: Buffer[] = [];
      if (Buffer.isBuffer(body)) chunks.push(body);
      else for await (const c of body) chunks.push(c as Buffer);
      const b = Buffer.concat(chunks);
      data.set(key, b);
      return { bytes: b.length };
    },
    async get(key) {
      const b = data.get(key);
      if (!b) throw new KycError('not_found', 'blob not found');
      // Small pieces, like a network stream, so the decryptor has to reassemble chunks.
      const pieces: Buffer[] = [];
      for (let i = 0; i < b.length; i += 10_000) pieces.push(b.subarray(i, i + 10_000));
      return Readable.from(pieces, { objectMode: false });
    },
    async delete(key) {
      data.delete(key);
    },
    async exists(key) {
      return data.has(key);
    },
  };
}

const code =
  (c: KycErrorCode) =>
  (e: unknown): boolean => {
    assert.ok(isKycError(e), `expected KycError(${c}), got ${String(e)}`);
    assert.equal(e.code, c);
    return true;
  };
const readAll = async (s: Readable): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};
const key = (id: string): BlobKey => ({ id, key: randomBytes(32) });
const SEGMENT = CHUNK_SIZE + 16;
const headerLen = (stored: Buffer): number => 5 + stored[4] + 32 + 8;

describe('encrypted blob store', () => {
  it('has the documented layout: header, full 64 KiB chunks, then a shorter final chunk', async () => {
    const inner = memoryStore();
    const store = createEncryptedBlobStore(inner, { current: key('k1') });
    for (const size of [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE]) {
      await store.put('b', randomBytes(size));
      const stored = inner.data.get('b')!;
      assert.equal(stored.subarray(0, 4).toString(), 'KLB1');
      assert.equal(stored.subarray(5, 5 + stored[4]).toString(), 'k1');
      const fullChunks = Math.floor(size / CHUNK_SIZE);
      assert.equal(stored.length, headerLen(stored) + fullChunks * SEGMENT + (size % CHUNK_SIZE) + 16, `size ${size}`);
    }
  });

  it('uses a fresh salt and nonce prefix for every blob, even for the same key and plaintext', async () => {
    const inner = memoryStore();
    const store = createEncryptedBlobStore(inner, { current: key('k1') });
    const plain = Buffer.alloc(1000, 1);
    await store.put('a', plain);
    const first = inner.data.get('a')!;
    await store.put('a', plain);
    const second = inner.data.get('a')!;
    assert.notDeepEqual(first.subarray(7, 7 + 40), second.subarray(7, 7 + 40));
    assert.notDeepEqual(first.subarray(headerLen(first)), second.subarray(headerLen(second)));
  });

  it('detects reordered, dropped and duplicated chunks', async () => {
    const inner = memoryStore();
    const store = createEncryptedBlobStore(inner, { current: key('k1') });
    await store.put('v', randomBytes(3 * CHUNK_SIZE + 100));
    const s = inner.data.get('v')!;
    const h = headerLen(s);
    const header = s.subarray(0, h);
    const seg = (i: number): Buffer => s.subarray(h + i * SEGMENT, Math.min(h + (i + 1) * SEGMENT, s.length));
    const variants: Record<string, Buffer> = {
      swapped: Buffer.concat([header, seg(1), seg(0), seg(2), seg(3)]),
      'middle dropped': Buffer.concat([header, seg(0), seg(2), seg(3)]),
      'final dropped (cut on a chunk boundary)': Buffer.concat([header, seg(0), seg(1), seg(2)]),
      duplicated: Buffer.concat([header, seg(0), seg(0), seg(1), seg(2), seg(3)]),
      'final chunk appended twice': Buffer.concat([header, seg(0), seg(1), seg(2), seg(3), seg(3)]),
    };
    for (const [what, bad] of Object.entries(variants)) {
      inner.data.set('v', bad);
      await assert.rejects(store.get('v').then(readAll), code('internal'), what);
    }
  });

  it('detects a chunk spliced in from another blob written under the same key name', async () => {
    const inner = memoryStore();
    const store = createEncryptedBlobStore(inner, { current: key('k1') });
    await store.put('v', randomBytes(2 * CHUNK_SIZE + 5));
    const a = inner.data.get('v')!;
    await store.put('v', randomBytes(2 * CHUNK_SIZE + 5));
    const b = inner.data.get('v')!;
    const h = headerLen(a);
    inner.data.set('v', Buffer.concat([a.subarray(0, h + SEGMENT), b.subarray(h + SEGMENT)]));
    await assert.rejects(store.get('v').then(readAll), code('internal'));
  });

  it('rejects get() itself (not just the stream) when the first chunk does not authenticate', async () => {
    const inner = memoryStore();
    const store = createEncryptedBlobStore(inner, { current: key('k1') });
    await store.put('x', randomBytes(100));
    inner.data.get('x')![60] ^= 1;
    await assert.rejects(store.get('x'), code('internal'));
    inner.data.set('y', Buffer.from('not an encrypted blob at all'));
    await assert.rejects(store.get('y'), code('internal'));
  });

  it('releases verified chunks while a later one is damaged, then errors the stream', async () => {
    const inner = memoryStore();
    const store = createEncryptedBlobStore(inner, { current: key('k1') });
    const plain = randomBytes(4 * CHUNK_SIZE);
    await store.put('x', plain);
    const s = inner.data.get('x')!;
    s[s.length - 100] ^= 1;
    const stream = await store.get('x');
    const got: Buffer[] = [];
    await assert.rejects(
      (async () => {
        for await (const c of stream) got.push(c as Buffer);
      })(),
      (e: unknown) => isKycError(e) && e.code === 'internal' && e.message === 'blob integrity check failed',
    );
    const received = Buffer.concat(got);
    assert.ok(received.length <= 3 * CHUNK_SIZE + CHUNK_SIZE);
    assert.ok(received.equals(plain.subarray(0, received.length)), 'whatever was released is genuine plaintext');
  });

  it('reads blobs written under any key of the keyring and writes with the current one', async () => {
    const inner = memoryStore();
    const k1 = key('k1');
    const k2 = key('k2');
    const before = createEncryptedBlobStore(inner, { current: k1 });
    const old = randomBytes(70_000);
    await before.put('old', old);

    const rotated = createEncryptedBlobStore(inner, { current: k2, others: [k1] });
    assert.ok((await readAll(await rotated.get('old'))).equals(old));
    const fresh = Buffer.from('new blob');
    await rotated.put('new', fresh);
    assert.equal(
      inner.data
        .get('new')!
        .subarray(5, 5 + inner.data.get('new')![4])
        .toString(),
      'k2',
    );

    const withoutOld = createEncryptedBlobStore(inner, { current: k2 });
    await assert.rejects(
      withoutOld.get('old'),
      (e: unknown) => isKycError(e) && e.code === 'internal' && /unknown key/.test(e.message),
    );
    assert.ok((await readAll(await withoutOld.get('new'))).equals(fresh));
  });

  it('fails when a key id is reused for different key material', async () => {
    const inner = memoryStore();
    await createEncryptedBlobStore(inner, { current: key('k1') }).put('x', Buffer.from('secret'));
    await assert.rejects(createEncryptedBlobStore(inner, { current: key('k1') }).get('x'), code('internal'));
  });

  it('validates the keyring', () => {
    const inner = memoryStore();
    assert.throws(
      () => createEncryptedBlobStore(inner, { current: { id: 'k', key: randomBytes(16) } }),
      code('invalid_request'),
    );
    assert.throws(
      () => createEncryptedBlobStore(inner, { current: { id: 'bad id', key: randomBytes(32) } }),
      code('invalid_request'),
    );
    assert.throws(
      () => createEncryptedBlobStore(inner, { current: { id: '', key: randomBytes(32) } }),
      code('invalid_request'),
    );
    assert.throws(
      () => createEncryptedBlobStore(inner, { current: key('k'), others: [key('k')] }),
      code('invalid_request'),
    );
  });

  it('streams: the inner store receives ciphertext before the source has ended', async () => {
    let produced = 0;
    let sourceEnded = false;
    const source = Readable.from(
      (async function* () {
        for (let i = 0; i < 64; i++) {
          produced += CHUNK_SIZE;
          yield randomBytes(CHUNK_SIZE);
        }
        sourceEnded = true;
      })(),
      { objectMode: false },
    );
    let endedAtFirstChunk: boolean | undefined;
    const inner = memoryStore();
    const spy: BlobStore = {
      ...inner,
      async put(_key, body) {
        let total = 0;
        for await (const c of body as Readable) {
          if (endedAtFirstChunk === undefined) endedAtFirstChunk = sourceEnded;
          total += (c as Buffer).length;
        }
        return { bytes: total };
      },
    };
    const store = createEncryptedBlobStore(spy, { current: key('k1') });
    assert.deepEqual(await store.put('big', source), { bytes: 64 * CHUNK_SIZE });
    assert.equal(produced, 64 * CHUNK_SIZE);
    assert.equal(endedAtFirstChunk, false);
  });

  it('refuses text streams rather than guessing their encoding', async () => {
    const store = createEncryptedBlobStore(memoryStore(), { current: key('k1') });
    await assert.rejects(store.put('t', Readable.from(['some text'])), code('internal'));
  });
});

describe('parseKeyringFromConfig', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  const k3 = randomBytes(32);

  it('parses base64, base64url and hex keys, with derived ids', () => {
    const ring = parseKeyringFromConfig(k1.toString('base64'), ` ${k2.toString('base64url')}, ${k3.toString('hex')}\n`);
    assert.ok(ring.current.key.equals(k1));
    assert.equal(ring.current.id, deriveKeyId(k1));
    assert.match(ring.current.id, /^[0-9a-f]{16}$/);
    assert.deepEqual(
      ring.others!.map((k) => k.id),
      [deriveKeyId(k2), deriveKeyId(k3)],
    );
    assert.ok(ring.others![0].key.equals(k2));
    assert.ok(ring.others![1].key.equals(k3));
  });

  it('accepts the current key already decoded, and labelled old keys', () => {
    const ring = parseKeyringFromConfig(k1, `2025:${k2.toString('base64')}, old-hex:${k3.toString('hex')}`);
    assert.equal(ring.current.id, deriveKeyId(k1));
    assert.deepEqual(
      ring.others!.map((k) => k.id),
      [deriveKeyId(k2), deriveKeyId(k3)],
    );
    assert.throws(() => parseKeyringFromConfig(randomBytes(16)), code('invalid_request'));
  });

  it('ignores the current key and duplicates among old keys', () => {
    const b = k2.toString('base64');
    const ring = parseKeyringFromConfig(k1.toString('base64'), `${k1.toString('base64')},${b},${b}`);
    assert.equal(ring.others!.length, 1);
  });

  it('gives stable ids that differ per key', () => {
    assert.equal(deriveKeyId(k1), deriveKeyId(Buffer.from(k1)));
    assert.notEqual(deriveKeyId(k1), deriveKeyId(k2));
  });

  it('refuses keys that are not 32 bytes, without echoing them', () => {
    for (const bad of [
      '',
      'short',
      randomBytes(16).toString('base64'),
      randomBytes(33).toString('base64'),
      'not base64 at all!!',
    ]) {
      assert.throws(
        () => parseKeyringFromConfig(bad),
        (e: unknown) => {
          assert.ok(isKycError(e) && e.code === 'invalid_request');
          if (bad) assert.ok(!e.message.includes(bad));
          return true;
        },
      );
    }
    assert.throws(() => parseKeyringFromConfig(k1.toString('base64'), 'AAAA'), code('invalid_request'));
  });

  it('produces a keyring the store accepts', async () => {
    const inner = memoryStore();
    const store = createEncryptedBlobStore(inner, parseKeyringFromConfig(k1.toString('base64')));
    await store.put('a', Buffer.from('hello'));
    assert.equal((await readAll(await store.get('a'))).toString(), 'hello');
  });
});
