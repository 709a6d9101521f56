import { auditHead, entryHash, readAudit, type StoredAuditEntry } from '../../storage/db/repo/audit.ts';
import type { Queryable } from '../ports.ts';

export interface ChainReport {
  ok: boolean;
  entries: number;
  /** The first entry that does not hold, and why. */
  firstBroken?: { seq: number; reason: string };
}

const GENESIS = '0'.repeat(64);

/**
 * `npx kyclive audit verify`: walks the chain in order and recomputes every hash. An entry changed
 * afterwards no longer matches its hash; one removed leaves a gap in the numbers or a predecessor
 * hash that names nothing; the head says how many entries there must be.
 */
export async function verifyAuditChain(db: Queryable, onEntry?: (e: StoredAuditEntry) => void): Promise<ChainReport> {
  let prev = GENESIS;
  let expected = 1;
  let count = 0;
  for (;;) {
    const batch = await readAudit(db, expected - 1, 1000);
    if (batch.length === 0) break;
    for (const e of batch) {
      if (e.seq !== expected)
        return { ok: false, entries: count, firstBroken: { seq: expected, reason: `entry ${expected} is missing` } };
      if (e.prevHash !== prev)
        return {
          ok: false,
          entries: count,
          firstBroken: { seq: e.seq, reason: 'its predecessor hash does not name the entry before it' },
        };
      if (entryHash(e.seq, e.prevHash, e) !== e.hash)
        return {
          ok: false,
          entries: count,
          firstBroken: { seq: e.seq, reason: 'its content does not match its hash (changed after it was written)' },
        };
      onEntry?.(e);
      prev = e.hash;
      expected++;
      count++;
    }
  }
  const head = await auditHead(db);
  if (head.seq !== count)
    return {
      ok: false,
      entries: count,
      firstBroken: { seq: count + 1, reason: `the log ends at ${count} but the chain's head is at ${head.seq}` },
    };
  if (head.hash !== prev)
    return {
      ok: false,
      entries: count,
      firstBroken: { seq: count, reason: "the chain's head does not name the last entry" },
    };
  return { ok: true, entries: count };
}
