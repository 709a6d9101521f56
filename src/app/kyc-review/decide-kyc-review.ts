import { KycError } from '../../domain/errors.ts';
import { KYC_LEVEL, KYC_REVIEW, toTreezorUser } from '../../domain/user.ts';
import { listChildren, setKycReview } from '../../storage/db/repo/users.ts';
import type { AppDeps } from '../deps.ts';
import { emitEvent } from '../outbox.ts';
import { parseUserId, requireUser } from '../users/get-user.ts';

/**
 * The compliance decision on a pending review (admin API now, back office later): kycReview
 * VALIDATED or REFUSED, kycLevel set (REGULAR / REFUSED unless given), comment appended, and
 * user.kycreview emitted for the user and each child.
 */
export async function decideKycReview(
  deps: AppDeps,
  clientId: string,
  rawUserId: unknown,
  body: unknown,
): Promise<Record<string, unknown>> {
  const b = (body ?? {}) as Record<string, unknown>;
  if (b.decision !== 'validated' && b.decision !== 'refused')
    throw new KycError('invalid_request', 'decision must be "validated" or "refused".', { param: 'decision' });
  if (b.comment !== undefined && (typeof b.comment !== 'string' || b.comment.length > 1000))
    throw new KycError('invalid_request', 'comment must be a string of at most 1000 characters.', { param: 'comment' });
  const level =
    b.kycLevel === undefined
      ? b.decision === 'validated'
        ? KYC_LEVEL.REGULAR
        : KYC_LEVEL.REFUSED
      : Number(b.kycLevel);
  if (!Object.values(KYC_LEVEL).includes(level as never))
    throw new KycError('invalid_request', 'kycLevel must be one of 0, 1, 2, 3, 4, 5, 6.', { param: 'kycLevel' });
  const userId = parseUserId(rawUserId);
  const now = deps.clock.now();
  const out = await deps.db.transaction(async (tx) => {
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
    await setKycReview(tx, clientId, ids, b.decision === 'validated' ? KYC_REVIEW.VALIDATED : KYC_REVIEW.REFUSED, now, {
      level,
      appendComment: (b.comment as string | undefined) ?? '',
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
    return { main, queued };
  });
  if (out.queued) deps.wake.webhooks();
  return out.main;
}
