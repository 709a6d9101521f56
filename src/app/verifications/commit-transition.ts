import { type TransitionResult, transition, type VerificationEvent } from '../../domain/verification/transitions.ts';
import { findUser } from '../../storage/db/repo/users.ts';
import { applyPatch, findById, type Verification } from '../../storage/db/repo/verifications.ts';
import { analysisJob } from '../analysis/analysis-job.ts';
import { enqueueJob } from '../jobs.ts';
import { emitEvent } from '../outbox.ts';
import type { Queryable } from '../ports.ts';
import { kyclivenessPayload } from './kycliveness-payload.ts';

export interface Committed {
  verification: Verification;
  result: TransitionResult;
  queuedJobs: boolean;
  queuedWebhooks: boolean;
}

/**
 * The one way a verification changes state: runs the pure transition on a verification the
 * caller's transaction has locked, then writes the patch, the outbox events and the jobs it asks
 * for through that same transaction.
 */
export async function commitTransition(
  tx: Queryable,
  v: Verification,
  event: VerificationEvent,
  now: Date,
  /** Data that goes with the state change (written only when the state changes). */
  extra: {
    analysis?: unknown;
    captureMetadata?: unknown;
    documentType?: string;
    documentCountry?: string;
    simulated?: boolean;
  } = {},
): Promise<Committed> {
  const result = transition({ id: v.id, state: v.state, expiresAt: v.expiresAt, startedAt: v.startedAt }, event, now);
  const changed = Object.keys(result.patch).length > 0;
  if (changed) await applyPatch(tx, v.id, { ...result.patch, ...extra }, now);
  const after = changed ? ((await findById(tx, v.id)) as Verification) : v;
  let queuedJobs = false;
  let queuedWebhooks = false;
  for (const eff of result.effects) {
    if (eff.type === 'enqueue_analysis') {
      await enqueueJob(tx, analysisJob, { verificationId: v.id }, { dedupeKey: `analysis:${v.id}` });
      queuedJobs = true;
    } else {
      const user = await findUser(tx, v.clientId, v.userId);
      if (!user) continue;
      const r = await emitEvent(
        tx,
        {
          clientId: v.clientId,
          name: eff.webhook,
          object: 'kycliveness',
          objectId: String(v.userId),
          payload: kyclivenessPayload(after, user, eff.webhook === 'kycliveness.update'),
        },
        now,
      );
      queuedWebhooks ||= r.deliveries > 0;
    }
  }
  return { verification: after, result, queuedJobs, queuedWebhooks };
}
