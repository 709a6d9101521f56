/**
 * Encryption at rest for any BlobStore: streaming AES-256-GCM in fixed-size chunks, in the
 * style of Tink's AES-GCM-HKDF streaming AEAD. Videos run to 100+ MB, so neither direction
 * ever holds more than a chunk or two in memory.
 *
 * Format "KLB1" (all integers big-endian):
 *
 *   header  = "KLB1" | u8 idLen | keyId (idLen ASCII bytes) | salt (32) | noncePrefix (8)
 *   body    = chunk_0 | chunk_1 | … | chunk_n
 *   chunk_i = AES-256-GCM(dataKey, nonce_i, plaintext_i, aad_i) ciphertext | tag (16)
 *
 *   dataKey = HKDF-SHA256(ikm = master key named by keyId, salt, info = "kyclive blob KLB1 data key", 32 bytes)
 *   nonce_i = noncePrefix | u32 i
 *   aad_i   = header | u16 len(blobKey) | blobKey (UTF-8) | u32 i | u8 final
 *
 * Every chunk but the last carries exactly CHUNK_SIZE (64 KiB) of plaintext; the last one
 * (final = 1) carries 0 to CHUNK_SIZE - 1 bytes, an empty one being added when the plaintext
 * is a multiple of CHUNK_SIZE. So a reader knows from lengths alone which chunk must be final,
 * without lookahead, and:
 *   - a per-blob random salt gives every blob its own data key, so nonces only need to be unique
 *     within a blob (the chunk counter), with no birthday bound across blobs under one master key;
 *     nothing is wrapped or stored: the data key is re-derived from the salt on read;
 *   - the whole header is in every chunk's AAD (and salt/keyId feed the key), so any header change fails;
 *   - the chunk index in nonce and AAD makes reordering, dropping or duplicating chunks fail;
 *   - the final flag makes truncation at a chunk boundary fail, and anything appended after the
 *     final chunk changes the length the reader expects, which fails too;
 *   - the blob key in the AAD makes a blob copied or moved under another key fail.
 * Not covered (inherent to storage the attacker can write): replacing a blob with an older
 * version of the same key, or deleting it.
 *
 * The key id names the master key in the keyring, so keys can be rotated: writes use the
 * current key, reads accept any key of the keyring.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobStore, PutOptions } from '../../app/ports.ts';
import { KycError } from '../../domain/errors.ts';
import { assertBlobKey, assertMaxBytes, bodyChunks, payloadTooLarge } from './common.ts';

export interface BlobKey {
  /** 1–64 of [A-Za-z0-9_.-]; stored in clear in every blob header. */
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

export interface BlobKeyring {
  /** Encrypts new blobs, and decrypts. */
  current: BlobKey;
  /** Previous keys, kept to decrypt blobs written before a rotation. */
  others?: BlobKey[];
}

const MAGIC = Buffer.from('KLB1', 'ascii');
/** Plaintext bytes per chunk. */
export const CHUNK_SIZE = 64 * 1024;
const TAG_LEN = 16;
const SALT_LEN = 32;
const NONCE_PREFIX_LEN = 8;
const SEGMENT_LEN = CHUNK_SIZE + TAG_LEN;
const HKDF_INFO = Buffer.from('kyclive blob KLB1 data key', 'ascii');
const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_CHUNKS = 2 ** 32;

const integrityError = (cause?: unknown): KycError =>
  new KycError('internal', 'blob integrity check failed', cause === undefined ? {} : { cause });

export function createEncryptedBlobStore(inner: BlobStore, keyring: BlobKeyring): BlobStore {
  const keys = new Map<string, Buffer>();
  for (const k of [keyring.current, ...(keyring.others ?? [])]) {
    if (!k || typeof k.id !== 'string' || !KEY_ID.test(k.id))
      throw new KycError('invalid_request', 'invalid blob key id');
    if (!Buffer.isBuffer(k.key) || k.key.length !== 32)
      throw new KycError('invalid_request', 'blob master keys must be 32 bytes');
    const known = keys.get(k.id);
    if (known && !known.equals(k.key))
      throw new KycError('invalid_request', 'two different blob master keys share one id');
    // Copied so a caller reusing or zeroing its Buffer cannot change the keyring behind our back.
    keys.set(k.id, Buffer.from(k.key));
  }
  const current = { id: keyring.current.id, key: keys.get(keyring.current.id)! };

  return {
    async put(key: string, body: Buffer | Readable, opts: PutOptions = {}): Promise<{ bytes: number }> {
      assertBlobKey(key);
      const { maxBytes } = opts;
      assertMaxBytes(maxBytes);
      if (Buffer.isBuffer(body) && maxBytes !== undefined && body.length > maxBytes) throw payloadTooLarge(maxBytes);
      const counter = { bytes: 0 };
      const ciphertext = Readable.from(encrypt(body, key, current, maxBytes, counter), { objectMode: false });
      try {
        // The plaintext limit is enforced inside encrypt(): its error fails the inner put, which then
        // discards whatever it had written. The content type is not passed on: at rest it is ciphertext,
        // and a clear "video/webm" would tell which blobs are face videos.
        await inner.put(key, ciphertext, { contentType: 'application/octet-stream' });
      } finally {
        ciphertext.destroy();
      }
      return { bytes: counter.bytes };
    },

    async get(key: string): Promise<Readable> {
      assertBlobKey(key);
      const source = await inner.get(key);
      const plain = decrypt(source, key, keys);
      // The first chunk is authenticated before resolving, so a wrong key or a damaged header shows
      // as a rejected get() (before an HTTP handler has sent a 200) rather than only as a stream error.
      let first: IteratorResult<Buffer>;
      try {
        first = await plain.next();
      } catch (e) {
        source.destroy();
        throw e;
      }
      async function* rest(): AsyncGenerator<Buffer> {
        try {
          if (first.done) return;
          yield first.value;
          for (let r = await plain.next(); !r.done; r = await plain.next()) yield r.value;
        } finally {
          await plain.return(undefined);
        }
      }
      return Readable.from(rest(), { objectMode: false });
    },

    delete: (key: string) => inner.delete(key),
    exists: (key: string) => inner.exists(key),
  };
}

async function* encrypt(
  body: Buffer | Readable,
  blobKey: string,
  master: { id: string; key: Buffer },
  maxBytes: number | undefined,
  counter: { bytes: number },
): AsyncGenerator<Buffer> {
  const id = Buffer.from(master.id, 'ascii');
  const salt = randomBytes(SALT_LEN);
  const header = Buffer.concat([MAGIC, Buffer.from([id.length]), id, salt, randomBytes(NONCE_PREFIX_LEN)]);
  const seal = chunkSealer(header, blobKey, deriveDataKey(master.key, salt));
  yield header;

  const queue = new ByteQueue();
  let index = 0;
  for await (const chunk of bodyChunks(body)) {
    counter.bytes += chunk.length;
    if (maxBytes !== undefined && counter.bytes > maxBytes) throw payloadTooLarge(maxBytes);
    queue.push(chunk);
    // ≥ rather than >: a full chunk is never final, which is what lets the reader decide by length.
    while (queue.length >= CHUNK_SIZE) yield seal(queue.take(CHUNK_SIZE), index++, false);
  }
  yield seal(queue.take(queue.length), index, true);
}

async function* decrypt(source: Readable, blobKey: string, keys: Map<string, Buffer>): AsyncGenerator<Buffer> {
  const queue = new ByteQueue();
  let open: ((segment: Buffer, index: number, final: boolean) => Buffer) | undefined;
  let index = 0;
  const parseHeader = (): boolean => {
    if (queue.length < MAGIC.length + 1) return false;
    const start = queue.peek(MAGIC.length + 1);
    if (!start.subarray(0, MAGIC.length).equals(MAGIC)) throw integrityError();
    const idLen = start[MAGIC.length];
    const headerLen = MAGIC.length + 1 + idLen + SALT_LEN + NONCE_PREFIX_LEN;
    if (queue.length < headerLen) return false;
    const header = queue.take(headerLen);
    const id = header.subarray(MAGIC.length + 1, MAGIC.length + 1 + idLen).toString('latin1');
    const master = keys.get(id);
    if (!master) {
      // The id goes to the cause (logs), not the message (API clients).
      throw new KycError('internal', 'blob encrypted with an unknown key', {
        cause: new Error(`unknown blob key id ${JSON.stringify(id)}`),
      });
    }
    const salt = header.subarray(MAGIC.length + 1 + idLen, MAGIC.length + 1 + idLen + SALT_LEN);
    open = chunkOpener(header, blobKey, deriveDataKey(master, salt));
    return true;
  };

  for await (const chunk of source) {
    queue.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
    if (!open && !parseHeader()) continue;
    while (queue.length >= SEGMENT_LEN) {
      const plain = open!(queue.take(SEGMENT_LEN), index++, false);
      yield plain;
    }
  }
  if (!open) throw integrityError();
  // Zero bytes left means the stream ended right after a full, hence non-final, chunk: truncated.
  if (queue.length < TAG_LEN) throw integrityError();
  const last = open(queue.take(queue.length), index, true);
  if (last.length > 0) yield last;
}

function deriveDataKey(master: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', master, salt, HKDF_INFO, 32));
}

function aadPrefix(header: Buffer, blobKey: string): Buffer {
  const name = Buffer.from(blobKey, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(name.length);
  return Buffer.concat([header, len, name]);
}

function chunkParams(
  header: Buffer,
  _blobKey: string,
  index: number,
  final: boolean,
  prefix: Buffer,
): { nonce: Buffer; aad: Buffer } {
  if (index >= MAX_CHUNKS) throw new KycError('payload_too_large', 'blob too large to encrypt');
  const nonce = Buffer.alloc(12);
  header.copy(nonce, 0, header.length - NONCE_PREFIX_LEN);
  nonce.writeUInt32BE(index, NONCE_PREFIX_LEN);
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(index, 0);
  tail[4] = final ? 1 : 0;
  return { nonce, aad: Buffer.concat([prefix, tail]) };
}

function chunkSealer(header: Buffer, blobKey: string, dataKey: Buffer) {
  const prefix = aadPrefix(header, blobKey);
  return (plain: Buffer, index: number, final: boolean): Buffer => {
    const { nonce, aad } = chunkParams(header, blobKey, index, final, prefix);
    const cipher = createCipheriv('aes-256-gcm', dataKey, nonce, { authTagLength: TAG_LEN });
    cipher.setAAD(aad);
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  };
}

function chunkOpener(header: Buffer, blobKey: string, dataKey: Buffer) {
  const prefix = aadPrefix(header, blobKey);
  return (segment: Buffer, index: number, final: boolean): Buffer => {
    const { nonce, aad } = chunkParams(header, blobKey, index, final, prefix);
    const body = segment.subarray(0, segment.length - TAG_LEN);
    try {
      const decipher = createDecipheriv('aes-256-gcm', dataKey, nonce, { authTagLength: TAG_LEN });
      decipher.setAAD(aad);
      decipher.setAuthTag(segment.subarray(segment.length - TAG_LEN));
      // Plaintext leaves only after final() has checked the tag: unauthenticated bytes are never released.
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch (e) {
      throw integrityError(e);
    }
  };
}

/** FIFO of byte chunks; copies only when a read spans chunk boundaries. */
class ByteQueue {
  private bufs: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.bufs.push(b);
    this.length += b.length;
  }

  peek(n: number): Buffer {
    const first = this.bufs[0];
    if (first && first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.bufs, this.length).subarray(0, n);
  }

  take(n: number): Buffer {
    if (n > this.length) throw new RangeError('ByteQueue underflow');
    this.length -= n;
    if (n === 0) return Buffer.alloc(0);
    const first = this.bufs[0];
    if (first.length >= n) {
      if (first.length === n) this.bufs.shift();
      else this.bufs[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    for (let off = 0; off < n; ) {
      const b = this.bufs[0];
      const k = Math.min(b.length, n - off);
      b.copy(out, off, 0, k);
      if (k === b.length) this.bufs.shift();
      else this.bufs[0] = b.subarray(k);
      off += k;
    }
    return out;
  }
}

/**
 * A stable, non-secret name for a master key, so operators only ever handle the keys themselves.
 * HMAC keyed by the key: reveals nothing about it, and two different keys get different ids.
 */
export function deriveKeyId(key: Buffer): string {
  return createHmac('sha256', key).update('kyclive blob key id').digest('hex').slice(0, 16);
}

/**
 * Builds the keyring from configuration: the current master key (base64 text, or the 32 bytes
 * already decoded), and optionally the previous ones, comma- or whitespace-separated, kept for
 * reading blobs written before a rotation. Each key is 32 bytes, base64/base64url
 * (`openssl rand -base64 32`) or 64 hex digits; an old key may be written `label:key`, the label
 * being only a reminder for operators. Key ids are always derived from the keys (deriveKeyId), so
 * a mislabelled or reordered list still decrypts everything it can.
 */
export function parseKeyringFromConfig(masterKey: string | Buffer, oldKeys?: string): BlobKeyring {
  const decode = (text: string, param: string): BlobKey => {
    const s = text.trim();
    let key: Buffer | undefined;
    if (/^[0-9a-fA-F]{64}$/.test(s)) key = Buffer.from(s, 'hex');
    else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) key = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    // Never echo the value: it is a secret, and error messages end up in logs.
    if (key?.length !== 32)
      throw new KycError('invalid_request', 'blob master key must be 32 bytes, base64 or hex encoded', { param });
    return { id: deriveKeyId(key), key };
  };
  let current: BlobKey;
  if (Buffer.isBuffer(masterKey)) {
    if (masterKey.length !== 32)
      throw new KycError('invalid_request', 'blob master key must be 32 bytes', { param: 'masterKey' });
    current = { id: deriveKeyId(masterKey), key: Buffer.from(masterKey) };
  } else {
    current = decode(masterKey ?? '', 'masterKey');
  }
  const others: BlobKey[] = [];
  for (const entry of (oldKeys ?? '').split(/[\s,]+/)) {
    if (entry === '') continue;
    // Neither base64 nor hex contains ':', so everything before the last one is a label.
    const k = decode(entry.slice(entry.lastIndexOf(':') + 1), 'oldMasterKeys');
    if (k.id !== current.id && !others.some((o) => o.id === k.id)) others.push(k);
  }
  return { current, others };
}
