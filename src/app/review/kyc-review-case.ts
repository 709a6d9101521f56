/**
 * The KYC review's case in the back office: opened when the integrator requests the review (PUT
 * Kycreview), its evidence kept current as the user's fields and documents change, and closed by
 * the admin API when the integrator decides there instead.
 */
import { randomUUID } from 'node:crypto';
import { resolveReviewSettings } from '../../domain/review/review-case.ts';
import { findClient } from '../../storage/db/repo/clients.ts';
import { listDocumentsOfUsers } from '../../storage/db/repo/documents.ts';
import { applyCasePatch, findOpenKycCase, insertCase } from '../../storage/db/repo/review-cases.ts';
import { listChildren } from '../../storage/db/repo/users.ts';
import type { Queryable } from '../ports.ts';
import { requireUser } from '../users/get-user.ts';
import { kycEvidenceHash } from './evidence.ts';

export async function kycEvidenceOf(tx: Queryable, clientId: string, userId: number): Promise<string> {
  const user = await requireUser(tx, clientId, userId);
  const children = await listChildren(tx, clientId, userId);
  const users = [user, ...children];
  const docs = await listDocumentsOfUsers(
    tx,
    clientId,
    users.map((u) => u.id),
  );
  return kycEvidenceHash(users, docs);
}

export async function openKycCase(tx: Queryable, clientId: string, userId: number, now: Date): Promise<void> {
  if (await findOpenKycCase(tx, userId)) return;
  const settings = resolveReviewSettings((await findClient(tx, clientId))?.reviewSettings);
  await insertCase(tx, {
    id: randomUUID(),
    clientId,
    kind: 'kyc_review',
    verificationId: null,
    userId,
    queueReason: 'kyc_review',
    method: null,
    recommendation: null,
    fourEyes: settings.fourEyes.kycReview,
    evidenceHash: await kycEvidenceOf(tx, clientId, userId),
    openedAt: now,
    dueAt: new Date(now.getTime() + settings.slaHours.kycReview * 3600_000),
  });
}

export async function closeKycCaseByApi(
  tx: Queryable,
  clientId: string,
  userId: number,
  outcome: 'approve' | 'refuse',
  now: Date,
): Promise<void> {
  const c = await findOpenKycCase(tx, userId, true);
  if (!c || c.clientId !== clientId) return;
  await applyCasePatch(
    tx,
    c.id,
    {
      state: 'closed',
      closedAt: now,
      proposal: null,
      decision: {
        outcome,
        reasons: [],
        comment: '',
        checklist: {},
        by: `api:${clientId}`,
        checkedBy: null,
        at: now.toISOString(),
      },
    },
    now,
  );
}
