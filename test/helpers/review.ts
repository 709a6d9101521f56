/** Compliance staff for tests: a person with roles, and a reviewer's decision on a verification's case. */
import { randomUUID } from 'node:crypto';
import { actOnReviewCase } from '../../src/app/review/act-on-review-case.ts';
import type { AppDeps } from '../../src/app/deps.ts';
import { checklistFor } from '../../src/domain/review/review-case.ts';
import type { StaffPrincipal, StaffRole } from '../../src/domain/review/staff.ts';
import { findCaseOfVerification } from '../../src/storage/db/repo/review-cases.ts';
import { insertStaff } from '../../src/storage/db/repo/staff.ts';

export async function staffMember(
  deps: AppDeps,
  roles: StaffRole[],
  tenants: string[] | null = null,
): Promise<StaffPrincipal> {
  const id = randomUUID();
  const r = await insertStaff(deps.db, {
    id,
    email: `${id}@bank.example`,
    name: `Staff ${id.slice(0, 4)}`,
    roles,
    tenants,
    at: new Date(),
  });
  return { id: r.id, email: r.email, roles: r.roles, tenants: r.tenants };
}

/** A reviewer claims the verification's case and approves it (a liveness case: no four eyes by default). */
export async function approveVerificationCase(
  deps: AppDeps,
  verificationId: string,
  comment = 'Checked by hand',
): Promise<void> {
  const c = await findCaseOfVerification(deps.db, verificationId);
  if (!c) throw new Error(`no review case for verification ${verificationId}`);
  const reviewer = await staffMember(deps, ['reviewer']);
  await actOnReviewCase(deps, reviewer, c.id, { type: 'claim' });
  const checklist = Object.fromEntries(checklistFor(c).map((i) => [i, true]));
  await actOnReviewCase(deps, reviewer, c.id, {
    type: 'decide',
    decision: { outcome: 'approve', reasons: [], comment, checklist },
  });
  if (c.fourEyes) await actOnReviewCase(deps, await staffMember(deps, ['checker']), c.id, { type: 'approve' });
}
