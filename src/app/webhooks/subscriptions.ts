import { randomUUID } from 'node:crypto';
import { KycError } from '../../domain/errors.ts';
import { randomToken } from '../../lib/secrets.ts';
import { assertWebhookUrl } from '../../lib/url-guard.ts';
import {
  countSubscriptions,
  deleteSubscription as removeSubscription,
  insertSubscription,
  listSubscriptions as listAll,
  listDeliveries as listDeliveryLog,
  replayDelivery as replayOne,
} from '../../storage/db/repo/webhooks.ts';
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
  input: { url: string },
): Promise<{ uuid: string; url: string; secret: string; status: string }> {
  const url = (await assertWebhookUrl(input.url, policy(deps))).url.toString();
  if ((await countSubscriptions(deps.db, clientId)) >= 20)
    throw new KycError('conflict', 'At most 20 webhook subscriptions per client.');
  const uuid = randomUUID();
  const secret = `whsec_${randomToken(32)}`;
  await insertSubscription(deps.db, { uuid, clientId, url, secret });
  return { uuid, url, secret, status: 'VALIDATED' };
}

export async function listSubscriptions(
  deps: AppDeps,
  clientId: string,
): Promise<{ uuid: string; url: string; createdAt: string }[]> {
  return (await listAll(deps.db, clientId)).map((x) => ({
    uuid: x.uuid,
    url: x.url,
    createdAt: x.createdAt.toISOString(),
  }));
}

export async function deleteSubscription(deps: AppDeps, clientId: string, uuid: unknown): Promise<void> {
  if (typeof uuid !== 'string' || !/^[0-9a-f-]{36}$/i.test(uuid))
    throw new KycError('not_found', 'Webhook subscription not found.');
  // Pending deliveries to a deleted subscription are abandoned, not sent.
  const deleted = await deps.db.transaction((tx) => removeSubscription(tx, clientId, uuid, deps.clock.now()));
  if (!deleted) throw new KycError('not_found', 'Webhook subscription not found.');
}

export async function listDeliveries(
  deps: AppDeps,
  clientId: string,
  query: { state?: 'pending' | 'delivering' | 'delivered' | 'abandoned' },
): Promise<Record<string, unknown>[]> {
  const state = query.state ?? null;
  return (await listDeliveryLog(deps.db, clientId, state)).map((x) => ({
    deliveryId: String(x.id),
    webhookId: x.webhookId,
    webhook: x.name,
    url: x.url,
    state: x.state,
    attempts: x.attempts,
    nextAttemptAt: x.nextAttemptAt,
    lastStatus: x.lastStatus,
    deliveredAt: x.deliveredAt,
    createdAt: x.createdAt,
    log: x.log,
  }));
}

/** Manual replay: the delivery goes back to pending now, whatever its state (new attempts are logged). */
export async function replayDelivery(deps: AppDeps, clientId: string, rawId: unknown): Promise<void> {
  const id = String(rawId ?? '');
  if (!/^\d{1,15}$/.test(id)) throw new KycError('not_found', 'Delivery not found.');
  const replayed = await replayOne(deps.db, clientId, Number(id), deps.clock.now());
  if (!replayed) throw new KycError('not_found', 'Delivery not found.');
  deps.wake.webhooks();
}
