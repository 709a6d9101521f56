import { purgeTagsBefore } from '../../storage/db/repo/idempotency.ts';
import { lockExpiryDue } from '../../storage/db/repo/verifications.ts';
import type { AppDeps } from '../deps.ts';
import { commitTransition } from './commit-transition.ts';

const BATCH = 200;

/**
 * Sweeper: writes down the expiry that effectiveState() already applies on read, through the
 * domain's expire transition (no webhook: the integrator sees it in GET kycliveness), in batches;
 * and drops accessTag records past their 24 h.
 */
export async function expireVerifications(deps: AppDeps): Promise<number> {
  const now = deps.clock.now();
  let expired = 0;
  for (;;) {
    const n = await deps.db.transaction(async (tx) => {
      const due = await lockExpiryDue(tx, now, BATCH);
      for (const v of due) await commitTransition(tx, v, { type: 'expire' }, now);
      return due.length;
    });
    expired += n;
    if (n < BATCH) break;
  }
  await purgeTagsBefore(deps.db, new Date(now.getTime() - 24 * 3600 * 1000));
  return expired;
}
