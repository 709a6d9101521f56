import type { AppDeps } from '../deps.ts';

/**
 * Where a sweep starts: the previous sweep's end, less this margin, which covers a row that a
 * concurrent transaction (PostgreSQL) had inserted but not committed when the previous sweep read,
 * and small steps of the clock. Reads apply the expiry anyway (effectiveState()); the sweep only
 * writes it down.
 */
export const EXPIRY_SWEEP_OVERLAP = '5 minutes';

/**
 * Sweeper: writes the expiry that effectiveState() already applies on read, and drops accessTag
 * records past their 24 h. Mirrors transition('expire'): initiated past expires_at → expired,
 * without a webhook (the integrator sees it in GET kycliveness). It walks the expires_at index
 * from its mark in sweep_marks (migration 0006): what expired since the previous sweep, not the
 * whole history.
 */
export async function expireVerifications(deps: AppDeps): Promise<number> {
  const now = deps.clock.now();
  const r = await deps.db.query<{ n: number }>(
    `with mark as (select swept_to from sweep_marks where name = 'verification_expiry'),
     expired as (
       update verifications set state = 'expired', updated_at = $1
        where expires_at <= $1 and expires_at > coalesce((select swept_to from mark) - interval '${EXPIRY_SWEEP_OVERLAP}', '-infinity')
          and state = 'initiated'
       returning 1),
     marked as (
       insert into sweep_marks (name, swept_to) values ('verification_expiry', $1)
       on conflict (name) do update set swept_to = greatest(sweep_marks.swept_to, excluded.swept_to))
     select count(*)::int as n from expired`,
    [now],
  );
  await deps.db.query(`delete from idempotency_keys where created_at < $1::timestamptz - interval '24 hours'`, [now]);
  return r.rows[0].n;
}
