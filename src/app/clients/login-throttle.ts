/**
 * Throttles failed client authentications: 10 per minute per client_id, 100 per minute per source
 * address (higher, because many services of one integrator may share a NAT address and one
 * misconfigured service should not lock out the others). Past the limit the key is refused (429)
 * until its window passes.
 * In memory, per process: it slows online guessing of a client secret (already 256 bits, so this
 * is defence in depth and protection of the scrypt CPU budget), not a distributed attacker.
 */
import { KycError } from '../../domain/errors.ts';

export const MAX_FAILURES = { client: 10, ip: 100 } as const;
export const WINDOW_MS = 60_000;

const limitOf = (key: string) => (key.startsWith('ip:') ? MAX_FAILURES.ip : MAX_FAILURES.client);

export function createLoginThrottle(now: () => number) {
  const failures = new Map<string, { count: number; since: number }>();

  function check(keys: string[]): void {
    const t = now();
    for (const k of keys) {
      const f = failures.get(k);
      if (f && t - f.since < WINDOW_MS && f.count >= limitOf(k)) {
        throw new KycError('rate_limited', 'Too many failed authentications; try again in a minute.', {
          details: { retryAfterSeconds: Math.ceil((f.since + WINDOW_MS - t) / 1000) },
        });
      }
    }
  }

  function fail(keys: string[]): void {
    const t = now();
    if (failures.size > 100_000) failures.clear();
    for (const k of keys) {
      const f = failures.get(k);
      if (!f || t - f.since >= WINDOW_MS) failures.set(k, { count: 1, since: t });
      else f.count++;
    }
  }

  return { check, fail };
}
