/**
 * Tokens for kyclive's presigned download URLs. Blobs are encrypted at rest, so a download
 * cannot be a storage provider's presigned URL: kyclive serves and decrypts it itself, and the
 * token is what authorises one resource of one tenant, for one purpose, until a deadline.
 *
 * Pure functions: the caller passes the time and the secret.
 *
 * Token = base64url(payload | mac), no padding, where
 *   payload = u8 version (1) | u64 expiresAt | u8 len | resource | u8 len | tenant     (UTF-8 strings)
 *   mac     = HMAC-SHA256(secret, "kyclive signed-url v1\0" | u8 len | purpose | payload)
 * The purpose is bound by the MAC but not carried (the verifier states which one it expects),
 * which keeps URLs short; the encoding is length-prefixed, so no two field sets share a MAC input.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { KycError } from '../domain/errors.ts';

export interface UrlTokenParams {
  /** What the URL may be used for, e.g. 'document.download'. */
  purpose: string;
  /** The thing it opens, e.g. a document id. */
  resource: string;
  tenant: string;
  /** Unix seconds; the token is valid while nowSeconds <= expiresAt. */
  expiresAt: number;
}

export interface VerifiedUrlToken {
  resource: string;
  tenant: string;
  expiresAt: number;
}

const VERSION = 1;
const DOMAIN = Buffer.from('kyclive signed-url v1\0', 'ascii');
const MAC_LEN = 32;
const MAX_FIELD_BYTES = 255;
const MIN_SECRET_BYTES = 32;
/** Generous upper bound (3 full fields); refuses absurd inputs before any decoding work. */
const MAX_TOKEN_CHARS = Math.ceil(((1 + 8 + 2 * (1 + MAX_FIELD_BYTES) + MAC_LEN) * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function field(value: unknown, name: string): Buffer {
  if (typeof value !== 'string' || value.length === 0)
    throw new KycError('internal', `signed URL ${name} must be a non-empty string`);
  const b = Buffer.from(value, 'utf8');
  if (b.length > MAX_FIELD_BYTES) throw new KycError('internal', `signed URL ${name} is too long`);
  return Buffer.concat([Buffer.from([b.length]), b]);
}

function assertSecret(secret: Buffer): void {
  if (!Buffer.isBuffer(secret) || secret.length < MIN_SECRET_BYTES) {
    throw new KycError('internal', `signed URL secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
}

function mac(secret: Buffer, purpose: Buffer, payload: Buffer): Buffer {
  return createHmac('sha256', secret).update(DOMAIN).update(purpose).update(payload).digest();
}

export function signUrlToken(params: UrlTokenParams, secret: Buffer): string {
  assertSecret(secret);
  const { expiresAt } = params;
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0)
    throw new KycError('internal', 'signed URL expiresAt must be unix seconds');
  const head = Buffer.alloc(9);
  head[0] = VERSION;
  head.writeBigUInt64BE(BigInt(expiresAt), 1);
  const payload = Buffer.concat([head, field(params.resource, 'resource'), field(params.tenant, 'tenant')]);
  const purpose = field(params.purpose, 'purpose');
  return Buffer.concat([payload, mac(secret, purpose, payload)]).toString('base64url');
}

/**
 * Checks a token and returns what it grants. Any alteration, a malformed token, another purpose
 * or another resource than expected: KycError('signature_invalid'). Authentic but past its
 * deadline (nowSeconds > expiresAt): KycError('url_expired'); expiry is only looked at once
 * the MAC holds, so an attacker cannot learn anything from which error comes back.
 */
export function verifyUrlToken(
  token: string,
  expected: { purpose: string; resource?: string },
  secret: Buffer,
  nowSeconds: number,
): VerifiedUrlToken {
  assertSecret(secret);
  const invalid = (): KycError => new KycError('signature_invalid', 'invalid URL signature');
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS || !BASE64URL.test(token))
    throw invalid();
  const bytes = Buffer.from(token, 'base64url');
  // Node's decoder ignores the spare low bits of the last character; re-encoding rejects such
  // variants so that every altered character of the token is refused, not just most of them.
  if (bytes.toString('base64url') !== token) throw invalid();
  if (bytes.length < 1 + 8 + 2 + 2 + MAC_LEN) throw invalid();

  const payload = bytes.subarray(0, bytes.length - MAC_LEN);
  const given = bytes.subarray(bytes.length - MAC_LEN);
  let purpose: Buffer;
  try {
    purpose = field(expected.purpose, 'purpose');
  } catch {
    throw invalid();
  }
  if (!timingSafeEqual(given, mac(secret, purpose, payload))) throw invalid();

  // Authentic from here on, so a parse failure would mean we signed garbage: still refuse.
  if (payload[0] !== VERSION) throw invalid();
  const expiresAt = Number(payload.readBigUInt64BE(1));
  let off = 9;
  const readField = (): string => {
    const len = payload[off];
    if (len === undefined || len === 0 || off + 1 + len > payload.length) throw invalid();
    const s = payload.subarray(off + 1, off + 1 + len).toString('utf8');
    off += 1 + len;
    return s;
  };
  const resource = readField();
  const tenant = readField();
  if (off !== payload.length || !Number.isSafeInteger(expiresAt)) throw invalid();
  if (expected.resource !== undefined && expected.resource !== resource) throw invalid();

  if (!(typeof nowSeconds === 'number' && Number.isFinite(nowSeconds)))
    throw new KycError('internal', 'nowSeconds must be a number');
  if (nowSeconds > expiresAt) throw new KycError('url_expired', 'URL has expired');
  return { resource, tenant, expiresAt };
}
