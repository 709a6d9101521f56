import { randomUUID } from 'node:crypto';
import { reviewTransition } from '../../domain/review/review-case.ts';
import { type TransitionResult, transition, type VerificationEvent } from '../../domain/verification/transitions.ts';
import {
  applyCasePatch,
  findCaseOfVerification,
  insertCase,
  type NewCase,
} from '../../storage/db/repo/review-cases.ts';
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
    /** With an analysis result that goes to a human: the case to open (effect open_review). */
    review?: Omit<NewCase, 'id' | 'clientId' | 'kind' | 'verificationId' | 'userId' | 'method' | 'openedAt'>;
  } = {},
): Promise<Committed> {
  const result = transition(
    { id: v.id, state: v.state, expiresAt: v.expiresAt, startedAt: v.startedAt, review: v.review },
    event,
    now,
  );
  const changed = Object.keys(result.patch).length > 0;
  const { review, ...data } = extra;
  if (changed) await applyPatch(tx, v.id, { ...result.patch, ...data }, now);
  const after = changed ? ((await findById(tx, v.id)) as Verification) : v;
  let queuedJobs = false;
  let queuedWebhooks = false;
  for (const eff of result.effects) {
    if (eff.type === 'enqueue_analysis') {
      await enqueueJob(
        tx,
        analysisJob,
        { verificationId: v.id },
        { dedupeKey: `analysis:${v.id}`, tenant: v.clientId },
      );
      queuedJobs = true;
    } else if (eff.type === 'open_review') {
      if (!review) throw new Error('open_review needs the case to open');
      await insertCase(tx, {
        ...review,
        id: randomUUID(),
        clientId: v.clientId,
        kind: 'verification',
        verificationId: v.id,
        userId: v.userId,
        method: v.method,
        openedAt: now,
      });
    } else if (eff.type === 'cancel_review') {
      const c = await findCaseOfVerification(tx, v.id, true);
      if (c) await applyCasePatch(tx, c.id, reviewTransition(c, { type: 'cancel' }, now).patch, now);
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
