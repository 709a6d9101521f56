/**
 * Delivers the outbox: claims due deliveries (skip-locked, leased), sends them concurrently,
 * and writes the outcomes back in batches. A delivery whose worker died is reclaimed when its
 * lease lapses, so nothing accepted is lost; receivers dedupe on webhook_id (at-least-once).
 */
import type { AppDeps } from '../app/deps.ts';
import { createIdleWaiter } from '../lib/idle-wait.ts';
import {
  type ClaimedDelivery,
  claimDeliveries,
  countDueDeliveries,
  nextDeliveryDue,
  recordDeliveryOutcomes,
} from '../storage/db/repo/webhooks.ts';
import { createCachedResolver, deliverWebhook, type DeliveryResult } from './deliver.ts';
import { classifyResponse, nextAttemptDelayMs, shouldRetry } from './retry-policy.ts';
import { buildWebhookBody, signatureHeader, SIGNATURE_HEADER } from './signing.ts';
import type { WebhookUrlPolicy } from '../lib/url-guard.ts';

interface Outcome {
  id: number;
  state: 'delivered' | 'pending' | 'abandoned';
  nextAttemptAt: Date | null;
  at: Date;
  r: DeliveryResult;
}

export interface DispatcherOptions {
  concurrency: number;
  timeoutMs: number;
  policy: WebhookUrlPolicy;
  /** Lease on a claimed delivery: longer than the HTTP timeout. */
  leaseMs?: number;
  /** How often an idle dispatcher looks for deliveries written by another process. */
  idlePollMs?: number;
  /**
   * When no other process writes deliveries (the embedded database: one process holds it), an
   * idle dispatcher sleeps until the earliest delivery it knows becomes due (a retry, a lapsing
   * lease), at most this long; writes in this process wake it at once. Default: idlePollMs.
   */
  idleCapMs?: number;
  /** Deliveries one receiver may have in flight (default: an eighth of concurrency, at least 2). */
  receiverSlots?: number;
  /** Deliveries one tenant may have in flight (default: a quarter of concurrency, at least 4). */
  tenantSlots?: number;
  random?: () => number;
}

export function createDispatcher(deps: AppDeps, opts: DispatcherOptions) {
  const leaseMs = opts.leaseMs ?? opts.timeoutMs * 3 + 5000;
  const idlePollMs = opts.idlePollMs ?? 1000;
  const random = opts.random ?? Math.random;
  const resolve = createCachedResolver();
  let running = false;
  let inFlight = 0;
  // Per receiver and per tenant, so that one of them cannot hold every slot (issue 25, item 8).
  const byReceiver = new Map<string, number>();
  const byTenant = new Map<string, number>();
  const perReceiver = Math.min(opts.concurrency, opts.receiverSlots ?? Math.max(2, Math.ceil(opts.concurrency / 8)));
  const perTenant = Math.min(opts.concurrency, opts.tenantSlots ?? Math.max(4, Math.ceil(opts.concurrency / 4)));
  const bump = (m: Map<string, number>, k: string, d: number) => {
    const n = (m.get(k) ?? 0) + d;
    if (n > 0) m.set(k, n);
    else m.delete(k);
  };
  const pending: Outcome[] = [];
  let flushing: Promise<void> | null = null;
  let loopDone: Promise<void> = Promise.resolve();

  const waiter = createIdleWaiter({
    pollMs: idlePollMs,
    capMs: opts.idleCapMs,
    now: () => deps.clock.now(),
    // the earliest pending retry or delivery lease
    nextDue: () => nextDeliveryDue(deps.db),
    onError: (err) => {
      if (running) deps.log.error({ err }, 'webhook due time failed');
    },
  });
  const wake = () => waiter.wake();

  async function claim(limit: number): Promise<ClaimedDelivery[]> {
    const now = deps.clock.now();
    return claimDeliveries(deps.db, now, limit, new Date(now.getTime() + leaseMs), {
      perReceiver,
      perTenant,
      inFlightByReceiver: Object.fromEntries(byReceiver),
      inFlightByTenant: Object.fromEntries(byTenant),
    });
  }

  async function flush(): Promise<void> {
    while (pending.length) {
      const batch = pending.splice(0, 500);
      const retries = batch.some((o) => o.state === 'pending');
      await deps.db.transaction((tx) =>
        recordDeliveryOutcomes(
          tx,
          batch.map((o) => ({
            id: o.id,
            state: o.state,
            nextAttemptAt: o.nextAttemptAt,
            at: o.at,
            durationMs: o.r.durationMs,
            status: o.r.status,
            error: o.r.error,
            responseSnippet: o.r.responseSnippet,
          })),
        ),
      );
      // The loop may have gone idle before this retry was written: it learns its due time now.
      if (retries) wake();
    }
  }

  function scheduleFlush() {
    if (!flushing) {
      flushing = (async () => {
        // One macrotask lets concurrent completions join the same batch.
        await new Promise((r) => setImmediate(r));
        try {
          await flush();
        } finally {
          flushing = null;
        }
        if (pending.length) scheduleFlush();
      })().catch((err) => {
        flushing = null;
        deps.log.error({ err }, 'webhook outcome flush failed');
      });
    }
  }

  async function send(c: ClaimedDelivery): Promise<void> {
    const body = buildWebhookBody(
      {
        webhook: c.name,
        webhookId: c.event_id,
        createdAt: c.created_at,
        object: c.object,
        objectId: c.object_id,
        payload: JSON.parse(c.payload),
      },
      c.secret,
    );
    const t = Math.floor(deps.clock.now().getTime() / 1000);
    const r = await deliverWebhook({
      resolve,
      url: c.url,
      body,
      timeoutMs: opts.timeoutMs,
      policy: opts.policy,
      headers: {
        [SIGNATURE_HEADER]: signatureHeader(body, [c.secret], t),
        'Kyclive-Webhook-Id': c.event_id,
        'Kyclive-Delivery-Attempt': String(c.attempts),
      },
    });
    const at = deps.clock.now();
    const cls = classifyResponse({
      status: r.status,
      networkError: r.networkError || (!r.ok && r.status === undefined && !r.timedOut),
      timedOut: r.timedOut,
    });
    let state: Outcome['state'] = 'delivered';
    let nextAttemptAt: Date | null = null;
    if (cls !== 'delivered') {
      if (shouldRetry(c.attempts, c.first_attempt_at, at, cls)) {
        state = 'pending';
        nextAttemptAt = new Date(at.getTime() + nextAttemptDelayMs(c.attempts, random));
      } else {
        state = 'abandoned';
      }
    }
    pending.push({ id: c.id, state, nextAttemptAt, at, r });
    scheduleFlush();
  }

  async function loop(): Promise<void> {
    // Claim in batches: one claim per finished delivery would cost a statement each (~1 ms on
    // PGlite), capping throughput well below the 500/s target once completions trickle in.
    const minBatch = Math.min(16, Math.ceil(opts.concurrency / 4));
    while (running) {
      waiter.clear();
      const free = opts.concurrency - inFlight;
      let claimed = 0;
      let drained = false;
      if (free > 0 && (inFlight === 0 || free >= minBatch)) {
        let rows: ClaimedDelivery[] = [];
        try {
          rows = await claim(free);
          drained = rows.length < free;
        } catch (err) {
          if (running) deps.log.error({ err }, 'webhook claim failed');
        }
        claimed = rows.length;
        for (const c of rows) {
          inFlight++;
          bump(byReceiver, c.subscription_uuid, 1);
          bump(byTenant, c.client_id, 1);
          send(c)
            .catch((err) => deps.log.error({ err }, 'webhook send failed'))
            .finally(() => {
              inFlight--;
              bump(byReceiver, c.subscription_uuid, -1);
              bump(byTenant, c.client_id, -1);
              wake();
            });
        }
      }
      // More may be due, or something happened while we were claiming: look again at once.
      if ((claimed > 0 && inFlight < opts.concurrency) || waiter.woken) continue;
      // Nothing more due now (drained): until something is. Otherwise deliveries in flight, whose
      // ends wake the loop, or a failed claim: the poll interval.
      await waiter.sleep(drained);
    }
  }

  return {
    wake,
    start() {
      if (running) return;
      running = true;
      loopDone = loop();
    },
    /** Stops claiming, waits for in-flight deliveries and writes their outcomes. */
    async stop(): Promise<void> {
      running = false;
      wake();
      await loopDone;
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
      while (flushing || pending.length) {
        if (flushing) await flushing;
        else await flush();
      }
    },
    /** Test hook: resolves when nothing is due, in flight or unflushed. */
    async idle(): Promise<void> {
      for (;;) {
        const due = await countDueDeliveries(deps.db, deps.clock.now());
        if (due === 0 && inFlight === 0 && !flushing && pending.length === 0) return;
        wake();
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
