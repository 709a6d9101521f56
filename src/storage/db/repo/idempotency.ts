/**
 * Treezor's accessTag records (per client, 24 h). A record is reserved (status IN_FLIGHT) before
 * the action runs and completed with the response afterwards; see src/api/idempotency.ts.
 */
import type { Queryable } from '../../../app/ports.ts';

export const IN_FLIGHT = 0;

export interface TagRecord {
  fingerprint: string;
  status: number;
  body: string;
}

/**
 * Reserves the tag unless a live record holds it: a completed one younger than `completedSince`,
 * or a reservation younger than `reservedSince`. True when reserved.
 */
export async function reserveTag(
  q: Queryable,
  t: { clientId: string; tag: string; fingerprint: string; now: Date; completedSince: Date; reservedSince: Date },
): Promise<boolean> {
  const r = await q.query(
    `insert into idempotency_keys (client_id, access_tag, request_fingerprint, status, body, created_at) values ($1, $2, $3, ${IN_FLIGHT}, '', $4)
     on conflict (client_id, access_tag) do update set request_fingerprint = excluded.request_fingerprint, status = ${IN_FLIGHT}, body = '', created_at = excluded.created_at
      where (idempotency_keys.status <> ${IN_FLIGHT} and idempotency_keys.created_at <= $5)
         or (idempotency_keys.status = ${IN_FLIGHT} and idempotency_keys.created_at <= $6)
     returning 1`,
    [t.clientId, t.tag, t.fingerprint, t.now, t.completedSince, t.reservedSince],
  );
  return r.rowCount > 0;
}

export async function findTag(q: Queryable, clientId: string, tag: string): Promise<TagRecord | null> {
  const r = await q.query<{ request_fingerprint: string; status: number; body: string }>(
    'select request_fingerprint, status, body from idempotency_keys where client_id = $1 and access_tag = $2',
    [clientId, tag],
  );
  const x = r.rows[0];
  return x ? { fingerprint: x.request_fingerprint, status: x.status, body: x.body } : null;
}

/** Stores the response of the request holding the reservation. */
export async function completeTag(
  q: Queryable,
  key: { clientId: string; tag: string; fingerprint: string },
  status: number,
  body: string,
): Promise<void> {
  await q.query(
    `update idempotency_keys set status = $4, body = $5 where client_id = $1 and access_tag = $2 and request_fingerprint = $3 and status = ${IN_FLIGHT}`,
    [key.clientId, key.tag, key.fingerprint, status, body],
  );
}

/** Gives the tag back (a refused request): the corrected request may reuse it. */
export async function releaseTag(
  q: Queryable,
  key: { clientId: string; tag: string; fingerprint: string },
): Promise<void> {
  await q.query(
    `delete from idempotency_keys where client_id = $1 and access_tag = $2 and request_fingerprint = $3 and status = ${IN_FLIGHT}`,
    [key.clientId, key.tag, key.fingerprint],
  );
}

export async function purgeTagsBefore(q: Queryable, before: Date): Promise<number> {
  return (await q.query('delete from idempotency_keys where created_at < $1', [before])).rowCount;
}
