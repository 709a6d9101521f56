/**
 * When to retry a webhook delivery, and how long to wait. Pure: no I/O, no clock, randomness injected,
 * so the outbox dispatcher and the tests share one source of truth.
 *
 * Schedule (equal jitter, lib/backoff.ts): retry n waits between ½ and 1 × min(1 h, 5 s × 2^(n-1)),
 * i.e. 2.5–5 s, 5–10 s, 10–20 s … then 30–60 min from retry 11 on. Retries stop once 26 h have passed since
 * the first attempt, which makes 36–62 attempts in all, the last one 26–27 h after the first. That is more
 * patient than Treezor's reported "every minute, 30 times" (contract §5.3): a receiver that is down for a
 * night or a weekend day still gets every event.
 */

import { type Backoff, backoffDelayMs } from '../lib/backoff.ts';

export type DeliveryClassification = 'delivered' | 'retry' | 'give_up';

export interface AttemptOutcome {
  status?: number;
  networkError?: boolean;
  timedOut?: boolean;
}

export const BASE_DELAY_MS = 5_000;
export const MAX_DELAY_MS = 60 * 60 * 1000;
const WEBHOOK_BACKOFF: Backoff = { baseMs: BASE_DELAY_MS, capMs: MAX_DELAY_MS };
export const MAX_ATTEMPT_WINDOW_MS = 26 * 60 * 60 * 1000;
/** Backstop against a dispatcher bug that retries without waiting; the window normally ends first. */
export const MAX_ATTEMPTS = 100;

/**
 * 2xx → delivered. 410 Gone → give_up: the receiver says the endpoint is retired for good.
 * Everything else → retry, including network errors, timeouts, 408/409/425/429 and 5xx, and also:
 *  - other 4xx: a receiver answering 400/401/403/404 is usually mid-deploy or mid-secret-rotation, and
 *    Treezor tells receivers to answer a bad signature with an error; dropping the event would lose
 *    a KYC decision for good, whereas retrying costs one request per backoff step.
 *  - 3xx: we never follow redirects (SSRF: a redirect could point anywhere), but a redirecting receiver
 *    is a fixable misconfiguration, and the 26 h window leaves time to fix it.
 * A 2xx status wins over a timeout flag: the receiver accepted the event even if its body was slow.
 */
export function classifyResponse(outcome: AttemptOutcome): DeliveryClassification {
  const { status } = outcome;
  if (status !== undefined && status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'give_up';
  return 'retry';
}

/** Delay before retry number `attempt` (1 = first retry): kyclive's one backoff (lib/backoff.ts). */
export function nextAttemptDelayMs(attempt: number, random: () => number): number {
  return backoffDelayMs(attempt, WEBHOOK_BACKOFF, random);
}

/**
 * Whether to schedule another attempt. `attempt` is the number of attempts made so far (1 after the first
 * try); when this returns true, wait nextAttemptDelayMs(attempt, …) before the next one.
 */
export function shouldRetry(
  attempt: number,
  firstAttemptAt: Date,
  now: Date,
  classification: DeliveryClassification,
): boolean {
  return (
    classification === 'retry' &&
    attempt < MAX_ATTEMPTS &&
    now.getTime() - firstAttemptAt.getTime() < MAX_ATTEMPT_WINDOW_MS
  );
}
