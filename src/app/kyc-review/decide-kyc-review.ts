import { KycError } from '../../domain/errors.ts';
import { KYC_LEVEL } from '../../domain/user.ts';
import type { AppDeps } from '../deps.ts';
import { closeKycCaseByApi } from '../review/kyc-review-case.ts';
import { applyKycDecision } from './apply-kyc-decision.ts';

/**
 * The compliance decision on a pending review through the admin API (the back office decides
 * through its review cases): kycReview
 * VALIDATED or REFUSED, kycLevel set (REGULAR / REFUSED unless given), comment appended, and
 * user.kycreview emitted for the user and each child.
 */
export async function decideKycReview(
  deps: AppDeps,
  clientId: string,
  userId: number,
  b: { decision: 'validated' | 'refused'; comment?: string; kycLevel?: number | string },
): Promise<Record<string, unknown>> {
  const level =
    b.kycLevel === undefined
      ? b.decision === 'validated'
        ? KYC_LEVEL.REGULAR
        : KYC_LEVEL.REFUSED
      : Number(b.kycLevel);
  if (!Object.values(KYC_LEVEL).includes(level as never))
    throw new KycError('invalid_request', 'kycLevel must be one of 0, 1, 2, 3, 4, 5, 6.', { param: 'kycLevel' });
  const now = deps.clock.now();
  const out = await deps.db.transaction(async (tx) => {
    const r = await applyKycDecision(
      tx,
      clientId,
      userId,
      {
        decision: b.decision,
        comment: b.comment ?? '',
        kycLevel: level,
      },
      now,
    );
    // A case waiting in the back office for this review is closed by the integrator's decision.
    await closeKycCaseByApi(tx, clientId, userId, b.decision === 'validated' ? 'approve' : 'refuse', now);
    return { main: r.user, queued: r.queued };
  });
  if (out.queued) deps.wake.webhooks();
  return out.main;
}
