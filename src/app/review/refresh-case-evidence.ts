import { reviewTransition } from '../../domain/review/review-case.ts';
import { applyCasePatch, lockCasesInProgressOfUser } from '../../storage/db/repo/review-cases.ts';
import { findUser } from '../../storage/db/repo/users.ts';
import { findById } from '../../storage/db/repo/verifications.ts';
import type { Queryable } from '../ports.ts';
import { verificationEvidenceHash } from './evidence.ts';
import { kycEvidenceOf } from './kyc-review-case.ts';

/**
 * Something a review rests on changed (the user's declared identity, a document): each case in
 * progress about this user gets its new evidence hash, and a decision waiting for its check on the
 * old evidence is cleared (domain: evidence_changed). Inside the caller's transaction.
 */
export async function refreshCaseEvidence(tx: Queryable, clientId: string, userId: number, now: Date): Promise<void> {
  for (const c of await lockCasesInProgressOfUser(tx, clientId, userId)) {
    let hash: string;
    if (c.kind === 'verification') {
      const v = await findById(tx, c.verificationId!);
      const user = await findUser(tx, clientId, c.userId);
      hash = verificationEvidenceHash((v?.analysis?.reportSha256 as string | undefined) ?? null, user?.fields ?? {});
    } else {
      hash = await kycEvidenceOf(tx, clientId, c.userId);
    }
    await applyCasePatch(
      tx,
      c.id,
      reviewTransition(c, { type: 'evidence_changed', evidenceHash: hash }, now).patch,
      now,
    );
  }
}
