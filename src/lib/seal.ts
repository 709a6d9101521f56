/**
 * Small values sealed at rest with AES-256-GCM (biometric templates, TOTP secrets): a random
 * nonce per value, the purpose bound as associated data, base64url text out.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export function seal(key: Buffer, purpose: string, plaintext: Buffer): string {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(purpose));
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return `${VERSION}.${Buffer.concat([nonce, c.getAuthTag(), body]).toString('base64url')}`;
}

/** The plaintext, or null when the text is not a value sealed with this key for this purpose. */
export function unseal(key: Buffer, purpose: string, sealed: string): Buffer | null {
  if (!sealed.startsWith(`${VERSION}.`)) return null;
  const raw = Buffer.from(sealed.slice(VERSION.length + 1), 'base64url');
  if (raw.length < 28) return null;
  try {
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    d.setAAD(Buffer.from(purpose));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]);
  } catch {
    return null;
  }
}
