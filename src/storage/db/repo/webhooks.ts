/** Webhook subscriptions, and the deliveries of the outbox (src/webhooks/dispatcher.ts sends them). */
import type { Queryable } from '../../../app/ports.ts';

export interface Subscription {
  uuid: string;
  url: string;
  createdAt: Date;
}

export async function countSubscriptions(q: Queryable, clientId: string): Promise<number> {
  const r = await q.query<{ n: number }>(
    'select count(*)::int as n from webhook_subscriptions where client_id = $1 and deleted_at is null',
    [clientId],
  );
  return r.rows[0].n;
}

export async function insertSubscription(
  q: Queryable,
  s: { uuid: string; clientId: string; url: string; secret: string },
): Promise<void> {
  await q.query('insert into webhook_subscriptions (uuid, client_id, url, secret) values ($1, $2, $3, $4)', [
    s.uuid,
    s.clientId,
    s.url,
    s.secret,
  ]);
}

export async function listSubscriptions(q: Queryable, clientId: string): Promise<Subscription[]> {
  const r = await q.query<{ uuid: string; url: string; created_at: Date }>(
    'select uuid, url, created_at from webhook_subscriptions where client_id = $1 and deleted_at is null order by created_at',
    [clientId],
  );
  return r.rows.map((x) => ({ uuid: x.uuid, url: x.url, createdAt: x.created_at }));
}

/** Deletes the subscription and abandons its pending deliveries. False if there was none. */
export async function deleteSubscription(q: Queryable, clientId: string, uuid: string, now: Date): Promise<boolean> {
  const r = await q.query(
    `update webhook_subscriptions set deleted_at = $3 where uuid = $1 and client_id = $2 and deleted_at is null`,
    [uuid, clientId, now],
  );
  if (r.rowCount === 0) return false;
  await q.query(
    `update webhook_deliveries set state = 'abandoned' where subscription_uuid = $1 and state = 'pending'`,
    [uuid],
  );
  return true;
}

export interface ClaimedDelivery {
  id: number;
  attempts: number;
  first_attempt_at: Date;
  event_id: string;
  client_id: string;
  subscription_uuid: string;
  name: string;
  object: string;
  object_id: string;
  payload: string;
  created_at: Date;
  url: string;
  secret: string;
}

/** Deliveries a dispatcher has in flight, and how many each receiver and each tenant may have. */
export interface DeliverySlots {
  perReceiver: number;
  perTenant: number;
  inFlightByReceiver: Record<string, number>;
  inFlightByTenant: Record<string, number>;
}

/**
 * Up to `limit` due deliveries, leased until leaseUntil, taking no receiver and no tenant past its
 * slots: a receiver that hangs, or a tenant with a flood of events, cannot hold the slots another
 * tenant's webhook needs. Candidates come from two bounded index walks, each in its index's order
 * (lapsed leases first, so that a steady backlog cannot starve a dead worker's deliveries); the
 * caps apply per receiver, then per tenant among what is left; the rows are then locked, skipping
 * those another dispatcher holds.
 */
export async function claimDeliveries(
  q: Queryable,
  now: Date,
  limit: number,
  leaseUntil: Date,
  slots: DeliverySlots,
): Promise<ClaimedDelivery[]> {
  const scan = Math.max(limit * 8, 256);
  const r = await q.query<ClaimedDelivery>(
    `with candidates as (
       select * from (select d.id, d.subscription_uuid, e.client_id, 0 as pri, d.locked_until as at
                        from webhook_deliveries d join events e on e.id = d.event_id
                       where d.state = 'delivering' and d.locked_until < $1 order by d.locked_until limit $4) lease_lapsed
       union all
       select * from (select d.id, d.subscription_uuid, e.client_id, 1 as pri, d.next_attempt_at as at
                        from webhook_deliveries d join events e on e.id = d.event_id
                       where d.state = 'pending' and d.next_attempt_at <= $1 order by d.next_attempt_at limit $4) due_now),
     receiver_fair as (
       select c.*, row_number() over (partition by c.client_id order by c.pri, c.at, c.id) as tenant_rank
         from (select c.*, row_number() over (partition by c.subscription_uuid order by c.pri, c.at, c.id) as receiver_rank
                 from candidates c) c
        where c.receiver_rank + coalesce((($5::jsonb)->>(c.subscription_uuid::text))::int, 0) <= $7),
     picked as (
       select id from receiver_fair f
        where f.tenant_rank + coalesce((($6::jsonb)->>f.client_id)::int, 0) <= $8
        order by f.pri, f.at, f.id limit $2),
     locked as (
       select d.id from webhook_deliveries d
        where d.id in (select id from picked)
          and (d.state = 'pending' or (d.state = 'delivering' and d.locked_until < $1))
        for update skip locked)
     update webhook_deliveries d set state = 'delivering', locked_until = $3, attempts = d.attempts + 1,
            first_attempt_at = coalesce(d.first_attempt_at, $1)
       from locked, events e, webhook_subscriptions s
      where d.id = locked.id and e.id = d.event_id and s.uuid = d.subscription_uuid
     returning d.id, d.attempts, d.first_attempt_at, e.id as event_id, e.client_id, e.name, e.object, e.object_id, e.payload,
               e.created_at, d.subscription_uuid, s.url, s.secret`,
    [
      now,
      limit,
      leaseUntil,
      scan,
      JSON.stringify(slots.inFlightByReceiver),
      JSON.stringify(slots.inFlightByTenant),
      slots.perReceiver,
      slots.perTenant,
    ],
  );
  return r.rows;
}

export interface DeliveryOutcome {
  id: number;
  state: 'delivered' | 'pending' | 'abandoned';
  nextAttemptAt: Date | null;
  at: Date;
  durationMs: number;
  status?: number;
  error?: string;
  responseSnippet?: string;
}

/** Logs each attempt and moves its delivery on, for a batch of outcomes, in one transaction's two statements. */
export async function recordDeliveryOutcomes(q: Queryable, batch: DeliveryOutcome[]): Promise<void> {
  await q.query(
    `insert into webhook_attempts (delivery_id, attempted_at, duration_ms, status, error, response_snippet)
     select * from unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::int[], $5::text[], $6::text[])`,
    [
      batch.map((o) => o.id),
      batch.map((o) => o.at),
      batch.map((o) => Math.round(o.durationMs)),
      batch.map((o) => o.status ?? null),
      batch.map((o) => o.error ?? null),
      batch.map((o) => o.responseSnippet ?? null),
    ],
  );
  await q.query(
    `update webhook_deliveries d set state = u.state, next_attempt_at = coalesce(u.next_at, d.next_attempt_at), last_status = u.status,
            delivered_at = case when u.state = 'delivered' then u.at else d.delivered_at end, locked_until = null
       from unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::int[], $5::timestamptz[]) as u(id, state, next_at, status, at)
      where d.id = u.id and d.state = 'delivering'`,
    [
      batch.map((o) => o.id),
      batch.map((o) => o.state),
      batch.map((o) => o.nextAttemptAt),
      batch.map((o) => o.status ?? null),
      batch.map((o) => o.at),
    ],
  );
}

/** When the earliest pending retry or delivery lease falls due (null: nothing to wait for). */
export async function nextDeliveryDue(q: Queryable): Promise<Date | null> {
  const r = await q.query<{ at: Date | null }>(
    `select least((select min(next_attempt_at) from webhook_deliveries where state = 'pending'),
                  (select min(locked_until) from webhook_deliveries where state = 'delivering')) as at`,
  );
  return r.rows[0]?.at ?? null;
}

export async function countDueDeliveries(q: Queryable, now: Date): Promise<number> {
  const r = await q.query<{ n: number }>(
    `select count(*)::int as n from webhook_deliveries where (state = 'pending' and next_attempt_at <= $1) or (state = 'delivering' and locked_until < $1)`,
    [now],
  );
  return r.rows[0].n;
}

export interface DeliveryLogEntry {
  id: number;
  state: string;
  attempts: number;
  nextAttemptAt: Date;
  lastStatus: number | null;
  deliveredAt: Date | null;
  createdAt: Date;
  webhookId: string;
  name: string;
  url: string;
  log: { at: string; status: number | null; durationMs: number; error: string | null }[];
}

export async function listDeliveries(
  q: Queryable,
  clientId: string,
  state: string | null,
): Promise<DeliveryLogEntry[]> {
  const r = await q.query<{
    id: number;
    state: string;
    attempts: number;
    next_attempt_at: Date;
    last_status: number | null;
    delivered_at: Date | null;
    created_at: Date;
    webhook_id: string;
    name: string;
    url: string;
    attempts_log: DeliveryLogEntry['log'] | null;
  }>(
    `select d.id, d.state, d.attempts, d.next_attempt_at, d.last_status, d.delivered_at, d.created_at, e.id as webhook_id, e.name, s.url,
            (select json_agg(json_build_object('at', a.attempted_at, 'status', a.status, 'durationMs', a.duration_ms, 'error', a.error) order by a.id)
               from webhook_attempts a where a.delivery_id = d.id) as attempts_log
       from webhook_deliveries d join events e on e.id = d.event_id join webhook_subscriptions s on s.uuid = d.subscription_uuid
      where e.client_id = $1 and ($2::text is null or d.state = $2) order by d.id desc limit 200`,
    [clientId, state],
  );
  return r.rows.map((x) => ({
    id: x.id,
    state: x.state,
    attempts: x.attempts,
    nextAttemptAt: x.next_attempt_at,
    lastStatus: x.last_status,
    deliveredAt: x.delivered_at,
    createdAt: x.created_at,
    webhookId: x.webhook_id,
    name: x.name,
    url: x.url,
    log: x.attempts_log ?? [],
  }));
}

/** Back to pending now, whatever its state but in flight (new attempts are logged). False if not the client's. */
export async function replayDelivery(q: Queryable, clientId: string, id: number, now: Date): Promise<boolean> {
  const r = await q.query(
    `update webhook_deliveries d set state = 'pending', next_attempt_at = $3, locked_until = null, first_attempt_at = null
       from events e, webhook_subscriptions s
      where d.id = $1 and e.id = d.event_id and e.client_id = $2 and s.uuid = d.subscription_uuid and s.deleted_at is null and d.state <> 'delivering'`,
    [id, clientId, now],
  );
  return r.rowCount > 0;
}
