import { randomInt, randomUUID } from 'node:crypto';
import { KycError } from '../../domain/errors.ts';
import { missingLivenessFields } from '../../domain/user.ts';
import { SUPERSEDABLE_STATES } from '../../domain/verification/states.ts';
import { randomToken, sha256Hex } from '../../lib/secrets.ts';
import { findUser } from '../../storage/db/repo/users.ts';
import type { AppDeps } from '../deps.ts';
import type { Challenge, ChallengeKind } from '../ports.ts';
import { parseUserId } from '../users/get-user.ts';

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

/** Absolute https URL; plain http only towards loopback (local development). */
export function validateRedirectUrl(raw: unknown, param = 'redirectUrl'): string {
  if (typeof raw !== 'string' || raw.length > 2000) throw new KycError('invalid_request', `${param} must be an absolute URL of at most 2000 characters.`, { param });
  let u: URL;
  try { u = new URL(raw); } catch { throw new KycError('invalid_request', `${param} must be an absolute URL.`, { param }); }
  if (u.username || u.password) throw new KycError('invalid_request', `${param} must not contain credentials.`, { param });
  if (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.test(u.hostname))) return u.toString();
  throw new KycError('invalid_request', `${param} must use https (http is accepted for localhost only).`, { param });
}

const CHALLENGE_POOL: ChallengeKind[] = ['turn_left', 'turn_right', 'blink', 'smile'];

/** A fresh random ordered script per certified session, so a pre-recorded video cannot match it. */
export function makeChallengeScript(pick: (n: number) => number = randomInt): Challenge[] {
  const pool = [...CHALLENGE_POOL];
  for (let i = pool.length - 1; i > 0; i--) { const j = pick(i + 1); [pool[i], pool[j]] = [pool[j], pool[i]]; }
  return pool.slice(0, 3).map((kind) => ({ kind, windowSeconds: 8 }));
}

export interface Initiated {
  identificationId: string;
  identificationUrl: string;
}

/**
 * POST /v1/users/{userId}/kycliveness. A new verification supersedes the user's unfinished one
 * (its URL then answers 410). Two statements, no explicit transaction: the supersede and the
 * insert are one atomic CTE, which keeps this endpoint's latency low.
 */
export async function initiateVerification(deps: AppDeps, clientId: string, rawUserId: unknown, body: unknown): Promise<Initiated> {
  const userId = parseUserId(rawUserId);
  let redirectUrl: string | undefined;
  if (body !== undefined && body !== null && body !== '') {
    if (typeof body !== 'object' || Array.isArray(body)) throw new KycError('invalid_request', 'The request body must be a JSON object.');
    const b = body as Record<string, unknown>;
    const unknown = Object.keys(b).filter((k) => k !== 'redirectUrl' && k !== 'accessTag');
    if (unknown.length) throw new KycError('invalid_request', `Unknown attribute: ${unknown[0]}.`, { param: unknown[0] });
    if (b.redirectUrl !== undefined && b.redirectUrl !== null && b.redirectUrl !== '') redirectUrl = validateRedirectUrl(b.redirectUrl);
  }
  const user = await findUser(deps.db, clientId, userId);
  if (!user) throw new KycError('not_found', 'User not found.', { param: 'userId' });
  const missing = missingLivenessFields(user.fields);
  if (missing.length) {
    throw new KycError('precondition_required', `The user must have ${missing.join(', ')} set before a live verification.`, { param: missing[0], details: { missingFields: missing } });
  }
  const c = await deps.db.query<{ verification_method: 'liveness' | 'certified'; default_redirect_url: string | null }>(
    'select verification_method, default_redirect_url from clients where id = $1', [clientId],
  );
  const method = c.rows[0].verification_method;
  const now = deps.clock.now();
  const id = randomUUID();
  const token = randomToken(32);
  const expiresAt = new Date(now.getTime() + deps.config.verificationTtlSeconds * 1000);
  const supersedable = [...SUPERSEDABLE_STATES];
  // Mirrors transition('supersede') and transition('expire') in one statement: initiated ones past
  // their lifetime become expired, the other unfinished ones superseded.
  await deps.db.query(
    `with expired as (
       update verifications set state = 'expired', updated_at = $10
        where client_id = $2 and user_id = $3 and state = 'initiated' and expires_at <= $10 returning id),
     superseded as (
       update verifications set state = 'superseded', superseded_by = $1, updated_at = $10
        where client_id = $2 and user_id = $3 and state = any($11::text[]) and not (state = 'initiated' and expires_at <= $10) returning id)
     insert into verifications (id, client_id, user_id, method, state, capture_token_hash, redirect_url, challenges, expires_at, created_at, updated_at)
     values ($1, $2, $3, $4, 'initiated', $5, $6, $7, $8, $9, $10)`,
    [id, clientId, userId, method, sha256Hex(token), redirectUrl ?? c.rows[0].default_redirect_url ?? deps.config.defaultRedirectUrl,
      JSON.stringify(method === 'certified' ? makeChallengeScript() : []), expiresAt, now, now, supersedable],
  );
  return { identificationId: id, identificationUrl: `${deps.config.publicBaseUrl}/identification/${token}` };
}
