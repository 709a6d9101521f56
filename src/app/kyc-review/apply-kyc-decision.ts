import { KycError } from '../../domain/errors.ts';
import { KYC_LEVEL, KYC_REVIEW, toTreezorUser } from '../../domain/user.ts';
import { listChildren, setKycReview } from '../../storage/db/repo/users.ts';
import { emitEvent } from '../outbox.ts';
import type { Queryable } from '../ports.ts';
import { requireUser } from '../users/get-user.ts';

export interface KycDecision {
  decision: 'validated' | 'refused';
  comment: string;
  kycLevel?: number;
  /** Prefix the comment with the date (the back office's entries); the admin API appends it as given. */
  dated?: boolean;
}

/**
 * The compliance decision on a pending KYC review, inside the caller's transaction: kycReview
 * VALIDATED or REFUSED, kycLevel set (REGULAR / REFUSED unless given), the comment appended (dated),
 * and user.kycreview emitted for the user and each child. Used by the admin API and the back office.
 */
export async function applyKycDecision(
  tx: Queryable,
  clientId: string,
  userId: number,
  d: KycDecision,
  now: Date,
): Promise<{ user: Record<string, unknown>; queued: boolean }> {
  const level = d.kycLevel ?? (d.decision === 'validated' ? KYC_LEVEL.REGULAR : KYC_LEVEL.REFUSED);
  if (!Object.values(KYC_LEVEL).includes(level as never))
    throw new KycError('invalid_request', 'kycLevel must be one of 0, 1, 2, 3, 4, 5, 6.', { param: 'kycLevel' });
  const user = await requireUser(tx, clientId, userId, true);
  if (user.kycReview !== KYC_REVIEW.PENDING) {
    throw new KycError(
      'conflict',
      'There is no pending KYC review for this user: request one with PUT /v1/users/{userId}/Kycreview.',
      { details: { kycReview: user.kycReview } },
    );
  }
  const children = await listChildren(tx, clientId, user.id);
  const ids = [user.id, ...children.map((c) => c.id)];
  const comment = d.dated && d.comment.trim() ? `${now.toISOString().slice(0, 10)} ${d.comment.trim()}` : d.comment;
  await setKycReview(tx, clientId, ids, d.decision === 'validated' ? KYC_REVIEW.VALIDATED : KYC_REVIEW.REFUSED, now, {
    level,
    appendComment: comment,
  });
  let queued = false;
  let main: Record<string, unknown> = {};
  for (const id of ids) {
    const wire = toTreezorUser(await requireUser(tx, clientId, id));
    if (id === user.id) main = wire;
    const r = await emitEvent(
      tx,
      { clientId, name: 'user.kycreview', object: 'user', objectId: String(id), payload: { users: [wire] } },
      now,
    );
    queued ||= r.deliveries > 0;
  }
  return { user: main, queued };
}
