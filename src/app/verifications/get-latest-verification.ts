import { KycError } from '../../domain/errors.ts';
import { effectiveState } from '../../domain/verification/transitions.ts';
import { findLatestForUser } from '../../storage/db/repo/verifications.ts';
import type { AppDeps } from '../deps.ts';
import { requireUser } from '../users/get-user.ts';
import { kyclivenessPayload } from './kycliveness-payload.ts';

/**
 * GET /v1/users/{userId}/kycliveness — a kyclive extension (Treezor has no read endpoint): the
 * latest verification as the webhooks describe it, so an integrator can poll or recover a
 * missed webhook.
 */
export async function getLatestVerification(
  deps: AppDeps,
  clientId: string,
  userId: number,
): Promise<Record<string, unknown>> {
  const user = await requireUser(deps.db, clientId, userId);
  const v = await findLatestForUser(deps.db, clientId, user.id);
  if (!v) throw new KycError('not_found', 'This user has no live verification.', { param: 'userId' });
  const state = effectiveState(v, deps.clock.now());
  // Object.assign rather than `{ ...x, more }`, which V8 11.3 (Node 20) allocates in the old
  // generation (initiate-batcher.ts, submit): GET kycliveness is what integrators poll.
  const payload = kyclivenessPayload(Object.assign({}, v, { state }), user, state === 'processed');
  return Object.assign(payload, { 'expires-at': v.expiresAt.toISOString(), 'created-at': v.createdAt.toISOString() });
}
