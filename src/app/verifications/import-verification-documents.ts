import { toTreezorDocument } from '../../domain/document.ts';
import { KycError } from '../../domain/errors.ts';
import { effectiveState } from '../../domain/verification/transitions.ts';
import { importArtifacts, listDocumentsOfVerification } from '../../storage/db/repo/documents.ts';
import { findLatestForUser } from '../../storage/db/repo/verifications.ts';
import type { AppDeps } from '../deps.ts';
import { emitEvent } from '../outbox.ts';
import { requireUser } from '../users/get-user.ts';

/**
 * PUT /v1/users/{userId}/kycliveness: copies the latest processed verification's artifacts (the
 * user's document captures and the synthesis report, type 26/34) into Documents, one
 * document.create per new document. Idempotent: artifact_id is unique in documents, so a repeat
 * creates and emits nothing and answers with the same documents.
 */
export async function importVerificationDocuments(
  deps: AppDeps,
  clientId: string,
  userId: number,
): Promise<{ documents: Record<string, unknown>[]; created: number }> {
  const now = deps.clock.now();
  const out = await deps.db.transaction(async (tx) => {
    const user = await requireUser(tx, clientId, userId, true);
    const v = await findLatestForUser(tx, clientId, user.id);
    if (!v) throw new KycError('not_found', 'This user has no live verification.', { param: 'userId' });
    const state = effectiveState(v, now);
    if (state === 'superseded' || state === 'expired')
      throw new KycError('gone', `The latest live verification is ${state}.`, { details: { state } });
    if (state !== 'processed')
      throw new KycError('not_processed', `The latest live verification is not processed yet (it is ${state}).`, {
        details: { state },
      });
    const createdIds = new Set(await importArtifacts(tx, clientId, user.id, v.id, now));
    const docs = await listDocumentsOfVerification(tx, clientId, v.id);
    let queued = false;
    for (const d of docs) {
      if (!createdIds.has(d.id)) continue;
      const r = await emitEvent(
        tx,
        {
          clientId,
          name: 'document.create',
          object: 'document',
          objectId: String(d.id),
          payload: { documents: [toTreezorDocument(d)] },
        },
        now,
      );
      queued ||= r.deliveries > 0;
    }
    return { documents: docs.map(toTreezorDocument), created: createdIds.size, queued };
  });
  if (out.queued) deps.wake.webhooks();
  return { documents: out.documents, created: out.created };
}
