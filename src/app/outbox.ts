/**
 * Writes a webhook event into the transactional outbox, inside the caller's transaction: a state
 * change and its webhooks commit together or not at all. src/webhooks/dispatcher.ts delivers after
 * commit.
 */
import { randomUUID } from 'node:crypto';
import { insertEvent } from '../storage/db/repo/outbox.ts';
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
  const deliveries = await insertEvent(tx, {
    id,
    clientId: e.clientId,
    name: e.name,
    object: e.object,
    objectId: e.objectId,
    // Stored as text: key order is part of what the Treezor signature covers, and jsonb reorders keys.
    payload: JSON.stringify(e.payload),
    createdAt: now,
  });
  return { id, deliveries };
}
