import { randomInt, randomUUID } from 'node:crypto';
import { KycError } from '../../domain/errors.ts';
import { missingLivenessFields } from '../../domain/user.ts';
import { initiate } from '../../domain/verification/transitions.ts';
import { randomToken, sha256Hex } from '../../lib/secrets.ts';
import { findClient } from '../../storage/db/repo/clients.ts';
import { findUser } from '../../storage/db/repo/users.ts';
import { insertVerification, lockLive } from '../../storage/db/repo/verifications.ts';
import type { AppDeps } from '../deps.ts';
import type { Challenge, ChallengeKind } from '../ports.ts';
import { commitTransition } from './commit-transition.ts';

export interface Initiated {
  identificationId: string;
  identificationUrl: string;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

/** Absolute https URL; plain http only towards loopback (local development). */
export function validateRedirectUrl(raw: unknown, param = 'redirectUrl'): string {
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

/**
 * POST /v1/users/{userId}/kycliveness. One transaction: the user's row is locked (so two requests
 * for one user run one after the other), its fields are checked, the new verification is inserted,
 * and each of the user's live verifications goes through the domain's supersede transition (its
 * URL then answers 410).
 */
export async function initiateVerification(
  deps: AppDeps,
  clientId: string,
  userId: number,
  input: { redirectUrl?: string | null } | null = null,
): Promise<Initiated> {
  const raw = input?.redirectUrl;
  const redirectUrl = raw ? validateRedirectUrl(raw) : undefined;
  const token = randomToken(32);
  const now = deps.clock.now();
  const id = await deps.db.transaction(async (tx) => {
    const user = await findUser(tx, clientId, userId, true);
    if (!user) throw new KycError('not_found', 'User not found.', { param: 'userId' });
    const missing = missingLivenessFields(user.fields);
    if (missing.length) {
      throw new KycError(
        'precondition_required',
        `The user must have ${missing.join(', ')} set before a live verification.`,
        {
          param: missing[0],
          details: { missingFields: missing },
        },
      );
    }
    const client = await findClient(tx, clientId);
    if (!client) throw new KycError('not_found', 'User not found.', { param: 'userId' });
    const created = initiate(
      {
        id: randomUUID(),
        method: client.method,
        redirectUrl: redirectUrl ?? client.defaultRedirectUrl ?? deps.config.defaultRedirectUrl,
        challenges: makeChallengeScript(),
        ttlSeconds: deps.config.verificationTtlSeconds,
      },
      now,
    );
    const live = await lockLive(tx, clientId, user.id);
    await insertVerification(tx, { ...created, clientId, userId: user.id, tokenHash: sha256Hex(token) });
    for (const v of live) await commitTransition(tx, v, { type: 'supersede', by: created.id }, now);
    return created.id;
  });
  return { identificationId: id, identificationUrl: `${deps.config.publicBaseUrl}/identification/${token}` };
}
