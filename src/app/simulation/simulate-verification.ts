import { KycError } from '../../domain/errors.ts';
import { isReasonCode } from '../../domain/reasons.ts';
import { findAbortRow } from '../../domain/redirects.ts';
import { findByClientAndId } from '../../storage/db/repo/verifications.ts';
import type { AppDeps } from '../deps.ts';
import { commitTransition } from '../verifications/commit-transition.ts';

/**
 * POST /simulation/kycliveness/{identificationId} (sandbox only, admin scope): drives an initiated
 * verification to a chosen outcome through the same transitions, jobs, documents and webhooks
 * as a real capture. "processed" completes it (kycliveness.create) and queues the analysis job,
 * which the sandbox analyzer answers with the chosen score and reasons (kycliveness.update).
 */
export type SimulationInput =
  | { outcome: 'processed'; score?: number | string; reasons?: (number | string)[]; comment?: string }
  | { outcome: 'aborted'; returnReason: string; errorType: string };

export async function simulateVerification(
  deps: AppDeps,
  clientId: string,
  identificationId: string,
  b: SimulationInput,
): Promise<Record<string, unknown>> {
  if (!deps.config.sandbox)
    throw new KycError('sandbox_disabled', 'Simulation endpoints are disabled on this server (KYCLIVE_SANDBOX=0).');
  let event: Parameters<typeof commitTransition>[2];
  let simulation: { score: number; reasons: number[]; comment: string } | undefined;
  if (b.outcome === 'processed') {
    const score = b.score === undefined ? 1 : Number(b.score);
    if (score !== 1 && score !== 0 && score !== -1)
      throw new KycError('invalid_request', 'score must be 1, 0 or -1.', { param: 'score' });
    const codes = (b.reasons ?? []).map(Number);
    const bad = codes.find((c) => !isReasonCode(c));
    if (bad !== undefined)
      throw new KycError('invalid_request', `Unknown reason code: ${String(bad)}.`, { param: 'reasons' });
    simulation = { score, reasons: codes, comment: b.comment ?? '' };
    event = { type: 'complete' };
  } else {
    if (!findAbortRow(b.returnReason, b.errorType)) {
      throw new KycError(
        'invalid_request',
        'returnReason and errorType must be one of the documented aborted rows (see docs).',
        { param: 'returnReason' },
      );
    }
    event = { type: 'abort', returnReason: b.returnReason, errorType: b.errorType };
  }
  const now = deps.clock.now();
  const out = await deps.db.transaction(async (tx) => {
    const v = await findByClientAndId(tx, clientId, identificationId, true);
    if (!v) throw new KycError('not_found', 'Live verification not found.', { param: 'identificationId' });
    // The row is marked simulated with the state change, so a refused simulation changes nothing.
    return commitTransition(tx, v, event, now, simulation ? { analysis: { simulation }, simulated: true } : {});
  });
  if (out.queuedJobs) deps.wake.jobs();
  if (out.queuedWebhooks) deps.wake.webhooks();
  return { 'identification-id': out.verification.id, 'kyc-status': out.verification.state, simulated: true };
}
