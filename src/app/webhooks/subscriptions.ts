import { randomUUID } from 'node:crypto';
import { KycError } from '../../domain/errors.ts';
import { randomToken } from '../../lib/secrets.ts';
import { assertWebhookUrl } from '../../webhooks/url-guard.ts';
import type { AppDeps } from '../deps.ts';

function policy(deps: AppDeps) {
  const w = deps.config.webhooks;
  return { allowPrivate: w.allowPrivate, allowLoopback: w.allowLoopback, allowHttp: w.allowLoopback || w.allowPrivate };
}

export { policy as webhookUrlPolicy };

/** POST /settings/hooks: the secret is shown once, here, and signs every webhook to this URL. */
export async function createSubscription(
  deps: AppDeps,
  clientId: string,
  body: unknown,
): Promise<{ uuid: string; url: string; secret: string; status: string }> {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.url !== 'string' || b.url.length > 2000)
    throw new KycError('invalid_request', 'url must be a string of at most 2000 characters.', { param: 'url' });
  const url = (await assertWebhookUrl(b.url, policy(deps))).url.toString();
  const count = await deps.db.query<{ n: number }>(
    'select count(*)::int as n from webhook_subscriptions where client_id = $1 and deleted_at is null',
    [clientId],
  );
  if (count.rows[0].n >= 20) throw new KycError('conflict', 'At most 20 webhook subscriptions per client.');
  const uuid = randomUUID();
  const secret = `whsec_${randomToken(32)}`;
  await deps.db.query('insert into webhook_subscriptions (uuid, client_id, url, secret) values ($1, $2, $3, $4)', [
    uuid,
    clientId,
    url,
    secret,
  ]);
  return { uuid, url, secret, status: 'VALIDATED' };
}

export async function listSubscriptions(
  deps: AppDeps,
  clientId: string,
): Promise<{ uuid: string; url: string; createdAt: string }[]> {
  const r = await deps.db.query<{ uuid: string; url: string; created_at: Date }>(
    'select uuid, url, created_at from webhook_subscriptions where client_id = $1 and deleted_at is null order by created_at',
    [clientId],
  );
  return r.rows.map((x) => ({ uuid: x.uuid, url: x.url, createdAt: x.created_at.toISOString() }));
}

export async function deleteSubscription(deps: AppDeps, clientId: string, uuid: unknown): Promise<void> {
  if (typeof uuid !== 'string' || !/^[0-9a-f-]{36}$/i.test(uuid))
    throw new KycError('not_found', 'Webhook subscription not found.');
  const r = await deps.db.query(
    `update webhook_subscriptions set deleted_at = $3 where uuid = $1 and client_id = $2 and deleted_at is null`,
    [uuid, clientId, deps.clock.now()],
  );
  if (r.rowCount === 0) throw new KycError('not_found', 'Webhook subscription not found.');
  // Pending deliveries to a deleted subscription are abandoned, not sent.
  await deps.db.query(
    `update webhook_deliveries set state = 'abandoned' where subscription_uuid = $1 and state = 'pending'`,
    [uuid],
  );
}

export async function listDeliveries(
  deps: AppDeps,
  clientId: string,
  query: Record<string, unknown>,
): Promise<Record<string, unknown>[]> {
  const state = query.state === undefined ? null : String(query.state);
  if (state && !['pending', 'delivering', 'delivered', 'abandoned'].includes(state))
    throw new KycError('invalid_request', 'state must be pending, delivering, delivered or abandoned.', {
      param: 'state',
    });
  // biome-ignore lint/suspicious/noExplicitAny: a row of the delivery log, mapped field by field below
  const r = await deps.db.query<Record<string, any>>(
    `select d.id, d.state, d.attempts, d.next_attempt_at, d.last_status, d.delivered_at, d.created_at, e.id as webhook_id, e.name, s.url,
            (select json_agg(json_build_object('at', a.attempted_at, 'status', a.status, 'durationMs', a.duration_ms, 'error', a.error) order by a.id)
               from webhook_attempts a where a.delivery_id = d.id) as attempts_log
       from webhook_deliveries d join events e on e.id = d.event_id join webhook_subscriptions s on s.uuid = d.subscription_uuid
      where e.client_id = $1 and ($2::text is null or d.state = $2) order by d.id desc limit 200`,
    [clientId, state],
  );
  return r.rows.map((x) => ({
    deliveryId: String(x.id),
    webhookId: x.webhook_id,
    webhook: x.name,
    url: x.url,
    state: x.state,
    attempts: x.attempts,
    nextAttemptAt: x.next_attempt_at,
    lastStatus: x.last_status,
    deliveredAt: x.delivered_at,
    createdAt: x.created_at,
    log: x.attempts_log ?? [],
  }));
}

/** Manual replay: the delivery goes back to pending now, whatever its state (new attempts are logged). */
export async function replayDelivery(deps: AppDeps, clientId: string, rawId: unknown): Promise<void> {
  const id = String(rawId ?? '');
  if (!/^\d{1,15}$/.test(id)) throw new KycError('not_found', 'Delivery not found.');
  const r = await deps.db.query(
    `update webhook_deliveries d set state = 'pending', next_attempt_at = $3, locked_until = null, first_attempt_at = null
       from events e, webhook_subscriptions s
      where d.id = $1 and e.id = d.event_id and e.client_id = $2 and s.uuid = d.subscription_uuid and s.deleted_at is null and d.state <> 'delivering'`,
    [Number(id), clientId, deps.clock.now()],
  );
  if (r.rowCount === 0) throw new KycError('not_found', 'Delivery not found.');
  deps.wake.webhooks();
}
