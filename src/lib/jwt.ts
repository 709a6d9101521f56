/**
 * Minimal HS256 JWT, enough for our own access tokens (we are both issuer and audience).
 * Written on node:crypto rather than a library because verification sits on every request's
 * path and this is synchronous and allocation-light.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

export function signJwt(claims: Record<string, unknown>, key: Buffer): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const sig = createHmac('sha256', key).update(`${HEADER}.${body}`).digest('base64url');
  return `${HEADER}.${body}.${sig}`;
}

/** Returns the claims, or null for anything malformed, wrongly signed or expired. */
export function verifyJwt(token: string, key: Buffer, nowSeconds: number): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return null;
  const expected = createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2], 'base64url');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return null;
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) return null;
  return claims;
}

export function subKey(secret: Buffer, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`kyclive:${purpose}`).digest();
}
