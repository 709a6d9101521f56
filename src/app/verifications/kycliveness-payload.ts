import { toWireReasons } from '../../domain/reasons.ts';
import type { StoredUser } from '../../domain/user.ts';
import type { Verification } from '../../storage/db/repo/verifications.ts';

/**
 * object_payload of kycliveness.create / kycliveness.update, and the body of GET kycliveness.
 * Field names as Treezor/Ubble use them (snake user_id, kebab attributes); `identification-id`,
 * `method`, `return-reason` and `error-type` are kyclive additions that clients may ignore.
 */
export function kyclivenessPayload(v: Verification, user: StoredUser, withResult: boolean): Record<string, unknown> {
  const extracted = (v.analysis?.extracted ?? null) as {
    firstname?: string;
    lastname?: string;
    birthday?: string;
  } | null;
  const p: Record<string, unknown> = {
    user_id: String(user.id),
    'identification-id': v.id,
    'kyc-status': v.state,
  };
  if (withResult) {
    p.score = v.score;
    p.comment = v.comment ?? '';
  }
  p.identity = {
    'first-name': extracted?.firstname ?? user.fields.firstname ?? '',
    'last-name': extracted?.lastname ?? user.fields.lastname ?? '',
    'birth-date': extracted?.birthday ?? user.fields.birthday ?? '',
  };
  p['started-at'] = (v.startedAt ?? v.createdAt).toISOString();
  p['updated-at'] = v.updatedAt.toISOString();
  p.reasons = withResult ? toWireReasons(v.reasons ?? []) : [];
  p.method = v.method;
  if (v.returnReason) p['return-reason'] = v.returnReason;
  if (v.errorType) p['error-type'] = v.errorType;
  return p;
}
