/**
 * The transactional outbox: an event is written in the same transaction as the state change that
 * caused it, with one delivery row per active subscription of the client. src/webhooks delivers
 * after commit.
 */
import type { Queryable } from '../../../app/ports.ts';

export interface OutboxEvent {
  id: string;
  clientId: string;
  name: string;
  object: string;
  objectId: string;
  /** The exact JSON text of object_payload: key order is part of what Treezor's signature covers. */
  payload: string;
  createdAt: Date;
}

/** Returns how many deliveries it queued. */
export async function insertEvent(q: Queryable, e: OutboxEvent): Promise<number> {
  const d = await q.query(
    `with event as (insert into events (id, client_id, name, object, object_id, payload, created_at) values ($1, $2, $3, $4, $5, $6, $7))
     insert into webhook_deliveries (event_id, subscription_uuid, next_attempt_at, created_at)
     select $1, uuid, $7, $7 from webhook_subscriptions where client_id = $2 and deleted_at is null`,
    [e.id, e.clientId, e.name, e.object, e.objectId, e.payload, e.createdAt],
  );
  return d.rowCount;
}
