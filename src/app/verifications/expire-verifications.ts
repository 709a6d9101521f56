import type { AppDeps } from '../deps.ts';

/**
 * Sweeper: writes the expiry that effectiveState() already applies on read, and drops accessTag
 * records past their 24 h. Mirrors transition('expire'): initiated past expires_at → expired,
 * without a webhook (the integrator sees it in GET kycliveness).
 */
export async function expireVerifications(deps: AppDeps): Promise<number> {
  const now = deps.clock.now();
  const r = await deps.db.query(`update verifications set state = 'expired', updated_at = $1 where state = 'initiated' and expires_at <= $1`, [now]);
  await deps.db.query(`delete from idempotency_keys where created_at < $1::timestamptz - interval '24 hours'`, [now]);
  return r.rowCount;
}
