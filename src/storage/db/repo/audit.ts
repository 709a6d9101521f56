/**
 * The append-only, hash-chained audit log (migration 0009). Each entry's hash covers its content
 * and the previous entry's hash, so an entry changed or removed afterwards breaks the chain from
 * there. The chain's head is one locked row: entries get consecutive numbers whatever the number
 * of processes.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../../../app/ports.ts';

export interface AuditEntry {
  at: Date;
  actorType: 'staff' | 'client' | 'system';
  actorId: string | null;
  action: string;
  clientId: string | null;
  targetType: string | null;
  targetId: string | null;
  sourceIp: string | null;
  details: Record<string, unknown>;
}

export interface StoredAuditEntry extends AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

/** JSON with sorted keys, so that the hash does not depend on how jsonb orders them. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object' && !(v instanceof Date))
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v instanceof Date ? v.toISOString() : v);
}

export function entryHash(seq: number, prevHash: string, e: AuditEntry): string {
  return createHash('sha256')
    .update(
      canonical({
        seq,
        prevHash,
        at: e.at.toISOString(),
        actorType: e.actorType,
        actorId: e.actorId,
        action: e.action,
        clientId: e.clientId,
        targetType: e.targetType,
        targetId: e.targetId,
        sourceIp: e.sourceIp,
        details: e.details,
      }),
    )
    .digest('hex');
}

/** Appends inside the caller's transaction: the entry commits with what it records. */
export async function appendAudit(q: Queryable, e: AuditEntry): Promise<StoredAuditEntry> {
  // The head row's new version: on PostgreSQL a concurrent appender waits for this row's lock and
  // then sees the committed head, not its statement's older snapshot.
  const head = await q.query<{ seq: number; hash: string }>(
    'update audit_head set seq = seq + 1 where id = 1 returning seq, hash',
  );
  const seq = head.rows[0].seq;
  const prevHash = head.rows[0].hash;
  // The details go through JSON once, so that what is hashed is what jsonb will give back.
  const details = JSON.parse(JSON.stringify(e.details ?? {})) as Record<string, unknown>;
  const entry = { ...e, details };
  const hash = entryHash(seq, prevHash, entry);
  await q.query(
    `insert into audit_log (seq, at, actor_type, actor_id, action, client_id, target_type, target_id, source_ip, details, prev_hash, hash)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      seq,
      e.at,
      e.actorType,
      e.actorId,
      e.action,
      e.clientId,
      e.targetType,
      e.targetId,
      e.sourceIp,
      JSON.stringify(details),
      prevHash,
      hash,
    ],
  );
  await q.query('update audit_head set hash = $1 where id = 1', [hash]);
  return { ...entry, seq, prevHash, hash };
}

interface Row {
  seq: number;
  at: Date;
  actor_type: AuditEntry['actorType'];
  actor_id: string | null;
  action: string;
  client_id: string | null;
  target_type: string | null;
  target_id: string | null;
  source_ip: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

const toEntry = (r: Row): StoredAuditEntry => ({
  seq: r.seq,
  at: r.at,
  actorType: r.actor_type,
  actorId: r.actor_id,
  action: r.action,
  clientId: r.client_id,
  targetType: r.target_type,
  targetId: r.target_id,
  sourceIp: r.source_ip,
  details: r.details,
  prevHash: r.prev_hash,
  hash: r.hash,
});

/** Entries in chain order, from `afterSeq`, at most `limit`. */
export async function readAudit(q: Queryable, afterSeq: number, limit: number): Promise<StoredAuditEntry[]> {
  const r = await q.query<Row>('select * from audit_log where seq > $1 order by seq limit $2', [afterSeq, limit]);
  return r.rows.map(toEntry);
}

export async function auditHead(q: Queryable): Promise<{ seq: number; hash: string }> {
  const r = await q.query<{ seq: number; hash: string }>('select seq, hash from audit_head where id = 1');
  return r.rows[0];
}

export interface AuditFilter {
  tenants: readonly string[] | null;
  targetType?: string;
  targetId?: string;
  actorId?: string;
  limit: number;
  beforeSeq?: number;
}

/** The newest entries first, among the given tenants (entries of no tenant: only for all-tenant staff). */
export async function searchAudit(q: Queryable, f: AuditFilter): Promise<StoredAuditEntry[]> {
  const r = await q.query<Row>(
    `select * from audit_log
      where ($1::text[] is null or client_id = any($1::text[]))
        and ($2::text is null or target_type = $2) and ($3::text is null or target_id = $3)
        and ($4::text is null or actor_id = $4) and ($5::bigint is null or seq < $5)
      order by seq desc limit $6`,
    [
      f.tenants === null ? null : [...f.tenants],
      f.targetType ?? null,
      f.targetId ?? null,
      f.actorId ?? null,
      f.beforeSeq ?? null,
      f.limit,
    ],
  );
  return r.rows.map(toEntry);
}
