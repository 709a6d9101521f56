import { toTreezorDocument } from '../../domain/document.ts';
import { KycError } from '../../domain/errors.ts';
import { KYC_REVIEW, toTreezorUser } from '../../domain/user.ts';
import { listDocumentsOfUsers } from '../../storage/db/repo/documents.ts';
import { listChildren, setKycReview } from '../../storage/db/repo/users.ts';
import type { AppDeps } from '../deps.ts';
import { emitEvent } from '../outbox.ts';
import { openKycCase } from '../review/kyc-review-case.ts';
import { requireUser } from '../users/get-user.ts';

/**
 * PUT /v1/users/{userId}/Kycreview: the user (and its children, OAS25) go to kycReview PENDING
 * and user.kycrequest is emitted. A child cannot request its own review: the parent's covers it.
 * Repeating the request while one is pending changes nothing and answers the same.
 */
export async function requestKycReview(
  deps: AppDeps,
  clientId: string,
  userId: number,
): Promise<Record<string, unknown>> {
  const now = deps.clock.now();
  const out = await deps.db.transaction(async (tx) => {
    const user = await requireUser(tx, clientId, userId, true);
    if (user.parentUserId !== null) {
      throw new KycError(
        'invalid_request',
        `User ${user.id} is a child of user ${user.parentUserId}: request the KYC review on the parent.`,
        { param: 'userId' },
      );
    }
    if (user.kycReview === KYC_REVIEW.PENDING) {
      await openKycCase(tx, clientId, user.id, now); // a review pending from before the back office
      return { user: toTreezorUser(user), queued: false };
    }
    const children = await listChildren(tx, clientId, user.id);
    await setKycReview(tx, clientId, [user.id, ...children.map((c) => c.id)], KYC_REVIEW.PENDING, now);
    await openKycCase(tx, clientId, user.id, now);
    const updated = await requireUser(tx, clientId, user.id);
    const wire = toTreezorUser(updated);
    const r = await emitEvent(
      tx,
      { clientId, name: 'user.kycrequest', object: 'user', objectId: String(user.id), payload: { users: [wire] } },
      now,
    );
    return { user: wire, queued: r.deliveries > 0 };
  });
  if (out.queued) deps.wake.webhooks();
  return out.user;
}

/** The review dossier (admin/back office): the user, its children, and every document of them. */
export async function getKycReviewDossier(
  deps: AppDeps,
  clientId: string,
  userId: number,
): Promise<Record<string, unknown>> {
  const user = await requireUser(deps.db, clientId, userId);
  const children = await listChildren(deps.db, clientId, user.id);
  const docs = await listDocumentsOfUsers(deps.db, clientId, [user.id, ...children.map((c) => c.id)]);
  return {
    users: [toTreezorUser(user)],
    children: children.map(toTreezorUser),
    documents: docs.map(toTreezorDocument),
  };
}
