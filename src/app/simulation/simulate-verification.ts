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
export async function simulateVerification(
  deps: AppDeps,
  clientId: string,
  identificationId: unknown,
  body: unknown,
): Promise<Record<string, unknown>> {
  if (!deps.config.sandbox)
    throw new KycError('sandbox_disabled', 'Simulation endpoints are disabled on this server (KYCLIVE_SANDBOX=0).');
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new KycError('invalid_request', 'The request body must be a JSON object.');
  const b = body as Record<string, unknown>;
  let event: Parameters<typeof commitTransition>[2];
  let simulation: { score: number; reasons: number[]; comment: string } | undefined;
  if (b.outcome === 'processed') {
    const score = b.score === undefined ? 1 : typeof b.score === 'string' ? Number(b.score) : b.score;
    if (score !== 1 && score !== 0 && score !== -1)
      throw new KycError('invalid_request', 'score must be 1, 0 or -1.', { param: 'score' });
    const reasons = b.reasons ?? [];
    if (!Array.isArray(reasons))
      throw new KycError('invalid_request', 'reasons must be an array of reason codes.', { param: 'reasons' });
    const codes = reasons.map((r) => (typeof r === 'string' && /^\d+$/.test(r) ? Number(r) : r));
    const bad = codes.find((c) => !isReasonCode(c));
    if (bad !== undefined)
      throw new KycError('invalid_request', `Unknown reason code: ${String(bad)}.`, { param: 'reasons' });
    if (b.comment !== undefined && (typeof b.comment !== 'string' || b.comment.length > 1000))
      throw new KycError('invalid_request', 'comment must be a string of at most 1000 characters.', {
        param: 'comment',
      });
    simulation = { score, reasons: codes as number[], comment: (b.comment as string | undefined) ?? '' };
    event = { type: 'complete' };
  } else if (b.outcome === 'aborted') {
    if (!findAbortRow(b.returnReason, b.errorType)) {
      throw new KycError(
        'invalid_request',
        'returnReason and errorType must be one of the documented aborted rows (see docs).',
        { param: 'returnReason' },
      );
    }
    event = { type: 'abort', returnReason: b.returnReason as string, errorType: b.errorType as string };
  } else {
    throw new KycError('invalid_request', 'outcome must be "processed" or "aborted".', { param: 'outcome' });
  }
  const now = deps.clock.now();
  const out = await deps.db.transaction(async (tx) => {
    const v = await findByClientAndId(tx, clientId, String(identificationId), true);
    if (!v) throw new KycError('not_found', 'Live verification not found.', { param: 'identificationId' });
    // The row is marked simulated with the state change, so a refused simulation changes nothing.
    return commitTransition(tx, v, event, now, simulation ? { analysis: { simulation }, simulated: true } : {});
  });
  if (out.queuedJobs) deps.wake.jobs();
  if (out.queuedWebhooks) deps.wake.webhooks();
  return { 'identification-id': out.verification.id, 'kyc-status': out.verification.state, simulated: true };
}
