/**
 * The transactional outbox: an event is written in the same transaction as the state change
 * that caused it, with one delivery row per active subscription of the client. Nothing is sent
 * here; src/webhooks/dispatcher.ts delivers after commit. So a state change and its webhooks
 * commit together or not at all.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from './ports.ts';

export interface OutboxEvent {
  clientId: string;
  name: string;
  object: string;
  objectId: string;
  payload: unknown;
}

export async function emitEvent(tx: Queryable, e: OutboxEvent, now: Date): Promise<{ id: string; deliveries: number }> {
  const id = randomUUID();
  // Stored as text: key order is part of what the Treezor signature covers, and jsonb reorders keys.
  // One statement for the event and its deliveries: on PGlite each statement of a transaction is a
  // round trip to the database thread plus a parse and a plan, and every state change emits.
  const d = await tx.query(
    `with event as (insert into events (id, client_id, name, object, object_id, payload, created_at) values ($1, $2, $3, $4, $5, $6, $7))
     insert into webhook_deliveries (event_id, subscription_uuid, next_attempt_at, created_at)
     select $1, uuid, $7, $7 from webhook_subscriptions where client_id = $2 and deleted_at is null`,
    [id, e.clientId, e.name, e.object, e.objectId, JSON.stringify(e.payload), now],
  );
  return { id, deliveries: d.rowCount };
}
