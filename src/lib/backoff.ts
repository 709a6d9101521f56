/**
 * The one retry delay of kyclive (webhook deliveries and jobs): capped exponential backoff with
 * equal jitter. Retry n waits between ½ and 1 × min(cap, base × 2^(n-1)). Equal rather than full
 * jitter: full jitter can draw near-zero delays, which would let a burst of failures hammer a
 * struggling receiver or dependency; keeping half the delay fixed still spreads retries out.
 */
export interface Backoff {
  baseMs: number;
  capMs: number;
}

/** Delay before retry number `attempt` (1 = first retry, after the first attempt failed). */
export function backoffDelayMs(attempt: number, policy: Backoff, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError('attempt must be an integer ≥ 1');
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(ceiling / 2 + (r * ceiling) / 2);
}
