/**
 * Staff act on a review case: claim it, assign it (admin), decide it, approve or send back a
 * decision waiting for its check (four eyes). The case's pure state machine decides what is
 * allowed; a case that closes applies its decision, in the same transaction, to the verification
 * (kycliveness.update, exactly once) or to the user (user.kycreview). Every act is audited.
 */
import { KycError } from '../../domain/errors.ts';
import { type CaseEvent, type Decision, reviewTransition } from '../../domain/review/review-case.ts';
import { type StaffPrincipal, worksFor } from '../../domain/review/staff.ts';
import { KYC_LEVEL } from '../../domain/user.ts';
import { applyCasePatch, findCase, type ReviewCase } from '../../storage/db/repo/review-cases.ts';
import { findStaff } from '../../storage/db/repo/staff.ts';
import { findById } from '../../storage/db/repo/verifications.ts';
import { audit } from '../audit/audit.ts';
import type { AppDeps } from '../deps.ts';
import { applyKycDecision } from '../kyc-review/apply-kyc-decision.ts';
import type { Queryable } from '../ports.ts';
import { commitTransition } from '../verifications/commit-transition.ts';

export type CaseAction =
  | { type: 'claim' }
  | { type: 'assign'; to: string | null }
  | { type: 'decide'; decision: Decision }
  | { type: 'approve' }
  | { type: 'send_back'; comment: string };

/** A case of one of the staff member's tenants, locked; any other answers as unknown. */
export async function lockCaseFor(tx: Queryable, staff: StaffPrincipal, caseId: string): Promise<ReviewCase> {
  const c = await findCase(tx, caseId, true);
  if (!c || !worksFor(staff, c.clientId))
    throw new KycError('not_found', 'Review case not found.', { param: 'caseId' });
  return c;
}

async function finalize(tx: Queryable, c: ReviewCase, d: Decision, now: Date): Promise<boolean> {
  if (c.kind === 'verification') {
    const v = await findById(tx, c.verificationId!, true);
    if (!v) throw new Error(`case ${c.id}: verification ${c.verificationId} is gone`);
    const r = await commitTransition(
      tx,
      v,
      {
        type: 'review_decided',
        score: d.outcome === 'approve' ? 1 : 0,
        reasons: d.outcome === 'approve' ? [] : d.reasons,
        comment: d.comment.trim() || (d.outcome === 'approve' ? 'Identity verified.' : 'Refused.'),
      },
      now,
    );
    return r.queuedWebhooks;
  }
  const r = await applyKycDecision(
    tx,
    c.clientId,
    c.userId,
    {
      decision: d.outcome === 'approve' ? 'validated' : 'refused',
      comment: d.comment,
      kycLevel: d.kycLevel ?? (d.outcome === 'approve' ? KYC_LEVEL.REGULAR : KYC_LEVEL.REFUSED),
      dated: true,
    },
    now,
  );
  return r.queued;
}

export async function actOnReviewCase(
  deps: AppDeps,
  staff: StaffPrincipal,
  caseId: string,
  action: CaseAction,
  ctx: { sourceIp?: string } = {},
): Promise<ReviewCase> {
  const now = deps.clock.now();
  const out = await deps.db.transaction(async (tx) => {
    const c = await lockCaseFor(tx, staff, caseId);
    if (action.type === 'assign' && action.to !== null) {
      const to = await findStaff(tx, action.to);
      if (!to || to.disabled || !worksFor(to, c.clientId))
        throw new KycError(
          'invalid_request',
          'The case can be assigned only to an active staff member of its tenant.',
          {
            param: 'to',
          },
        );
    }
    const event = { ...action, staff } as CaseEvent;
    const r = reviewTransition(c, event, now);
    await applyCasePatch(tx, c.id, r.patch, now);
    let queued = false;
    for (const e of r.effects) if (e.type === 'finalize') queued ||= await finalize(tx, c, e.decision, now);
    await audit(tx, {
      at: now,
      actorType: 'staff',
      actorId: staff.id,
      action: `case.${action.type}`,
      clientId: c.clientId,
      targetType: 'review_case',
      targetId: c.id,
      sourceIp: ctx.sourceIp,
      details: {
        before: { state: c.state, assignee: c.assignee },
        after: {
          state: r.patch.state ?? c.state,
          assignee: r.patch.assignee === undefined ? c.assignee : r.patch.assignee,
        },
        ...(action.type === 'decide'
          ? { outcome: action.decision.outcome, reasons: action.decision.reasons, checklist: action.decision.checklist }
          : {}),
        ...(action.type === 'assign' ? { to: action.to } : {}),
      },
    });
    return { queued, c: (await findCase(tx, c.id))! };
  });
  if (out.queued) deps.wake.webhooks();
  return out.c;
}
