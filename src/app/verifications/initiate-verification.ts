import { randomInt } from 'node:crypto';
import { KycError } from '../../domain/errors.ts';
import type { AppDeps } from '../deps.ts';
import type { Challenge, ChallengeKind } from '../ports.ts';
import { parseUserId } from '../users/get-user.ts';
import { createInitiateBatcher, type Initiated } from './initiate-batcher.ts';

export type { Initiated };

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

/**
 * URLs already accepted, by their exact text, to their normal form: an integrator sends the same
 * redirectUrl or two with every call, and parsing one was about 2 % of POST kycliveness's event
 * loop. Bounded: a flood of distinct URLs only costs a clear.
 */
const accepted = new Map<string, string>();
const ACCEPTED_MAX = 256;

/** Absolute https URL; plain http only towards loopback (local development). */
export function validateRedirectUrl(raw: unknown, param = 'redirectUrl'): string {
  if (typeof raw === 'string') {
    const hit = accepted.get(raw);
    if (hit !== undefined) return hit;
  }
  const url = parseRedirectUrl(raw, param);
  if (accepted.size >= ACCEPTED_MAX) accepted.clear();
  accepted.set(raw as string, url);
  return url;
}

function parseRedirectUrl(raw: unknown, param: string): string {
  if (typeof raw !== 'string' || raw.length > 2000)
    throw new KycError('invalid_request', `${param} must be an absolute URL of at most 2000 characters.`, { param });
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new KycError('invalid_request', `${param} must be an absolute URL.`, { param });
  }
  if (u.username || u.password)
    throw new KycError('invalid_request', `${param} must not contain credentials.`, { param });
  if (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.test(u.hostname))) return u.toString();
  throw new KycError('invalid_request', `${param} must use https (http is accepted for localhost only).`, { param });
}

const CHALLENGE_POOL: ChallengeKind[] = ['turn_left', 'turn_right', 'blink', 'smile'];

/** A fresh random ordered script per certified session, so a pre-recorded video cannot match it. */
export function makeChallengeScript(pick: (n: number) => number = randomInt): Challenge[] {
  const pool = [...CHALLENGE_POOL];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, 3).map((kind) => ({ kind, windowSeconds: 8 }));
}

const batchers = new WeakMap<AppDeps, ReturnType<typeof createInitiateBatcher>>();

/**
 * POST /v1/users/{userId}/kycliveness. A new verification supersedes the user's unfinished one
 * (its URL then answers 410). Concurrent requests are group-committed (initiate-batcher.ts).
 */
export async function initiateVerification(
  deps: AppDeps,
  clientId: string,
  rawUserId: unknown,
  body: unknown,
): Promise<Initiated> {
  const userId = parseUserId(rawUserId);
  let redirectUrl: string | undefined;
  if (body !== undefined && body !== null && body !== '') {
    if (typeof body !== 'object' || Array.isArray(body))
      throw new KycError('invalid_request', 'The request body must be a JSON object.');
    const b = body as Record<string, unknown>;
    const unknown = Object.keys(b).filter((k) => k !== 'redirectUrl' && k !== 'accessTag');
    if (unknown.length)
      throw new KycError('invalid_request', `Unknown attribute: ${unknown[0]}.`, { param: unknown[0] });
    if (b.redirectUrl !== undefined && b.redirectUrl !== null && b.redirectUrl !== '')
      redirectUrl = validateRedirectUrl(b.redirectUrl);
  }
  let submit = batchers.get(deps);
  if (!submit) {
    submit = createInitiateBatcher(deps, makeChallengeScript);
    batchers.set(deps, submit);
  }
  return submit({ clientId, userId, redirectUrl });
}
