/**
 * The webhook dispatcher and the job runner on the embedded database, which no other process
 * writes: idle, they sleep until the next retry or lease they know of instead of polling
 * (compose.ts, EMBEDDED_IDLE_CAP_MS), and a retry still goes out when it falls due.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppDeps } from '../src/app/deps.ts';
import { silentLog } from '../src/app/deps.ts';
import { systemClock, type Db } from '../src/app/ports.ts';
import { createClient } from '../src/app/clients/create-client.ts';
import { Type } from '@sinclair/typebox';
import { defineJob, enqueueJob } from '../src/app/jobs.ts';
import { emitEvent } from '../src/app/outbox.ts';
import { migrate } from '../src/storage/db/migrate.ts';
import { createDispatcher } from '../src/webhooks/dispatcher.ts';
import { createJobRunner } from '../src/worker/job-runner.ts';
import { testDatabases } from './helpers/databases.ts';
import { startReceiver } from './helpers/webhook-receiver.ts';

let db: Db;
before(async () => {
  db = await (await testDatabases())
    .find((b) => b.name === 'pglite')!
    .open()
    .then((o) => o.db);
  await migrate(db);
});
after(async () => {
  await db?.close();
});

/** The database, counting the statements sent to it. */
function counting(inner: Db) {
  const counter = { n: 0 };
  const proxy = new Proxy(inner, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof v !== 'function' || key === 'close') return v;
      return (...args: unknown[]) => {
        counter.n++;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { db: proxy, counter };
}

/** Half a second of idleness after the loop's start: a poll every 25 ms would be 20 statements. */
async function assertQuiet(counter: { n: number }) {
  await sleep(100);
  const before = counter.n;
  await sleep(500);
  assert.ok(counter.n - before <= 1, `${counter.n - before} statements while idle`);
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000) {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('webhooks: an idle dispatcher does not poll, and a retry goes out when it falls due', async () => {
  const rec = await startReceiver((_r, n) => (n === 0 ? 503 : 200));
  const { db: counted, counter } = counting(db);
  const deps = { db: counted, clock: systemClock, log: silentLog } as unknown as AppDeps;
  const d = createDispatcher(deps, {
    concurrency: 4,
    timeoutMs: 2000,
    idlePollMs: 25,
    idleCapMs: 60_000,
    random: () => 0,
    policy: { allowLoopback: true, allowPrivate: false, allowHttp: true },
  });
  try {
    d.start();
    await assertQuiet(counter);

    const client = await createClient(db, { name: 'idle loops', scopes: ['admin'] });
    await db.query('insert into webhook_subscriptions (uuid, client_id, url, secret) values ($1, $2, $3, $4)', [
      randomUUID(),
      client.clientId,
      rec.url,
      'whsec_idle',
    ]);
    await emitEvent(
      db,
      { clientId: client.clientId, name: 'test.ping', object: 'test', objectId: '1', payload: { n: 1 } },
      new Date(),
    );
    d.wake();
    await until('the first attempt', () => rec.attempts() === 1);
    const failedAt = Date.now();
    // the outcome is written, then the retry's due time read: 2.5 s later (random 0, first retry)
    await until(
      'the retry to be scheduled',
      async () =>
        (await db.query(`select 1 from webhook_deliveries where state = 'pending' and attempts = 1`)).rowCount === 1,
    );
    await sleep(200);
    const before = counter.n;
    await until('the retry', () => rec.received.length === 1, 8000);
    const waited = rec.received[0].at - failedAt;
    assert.ok(waited >= 2400 && waited < 4500, `retried after ${waited} ms`);
    // a claim at the due time and the delivery's own statements: a handful, not a poll every 25 ms (~100)
    assert.ok(counter.n - before <= 6, `${counter.n - before} statements while waiting for the retry`);
  } finally {
    await d.stop();
    await rec.close();
  }
});

test('jobs: an idle runner does not poll, and a failed job runs again when its retry falls due', async () => {
  const { db: counted, counter } = counting(db);
  const deps = { db: counted, clock: systemClock, log: silentLog } as unknown as AppDeps;
  const runs: number[] = [];
  const flaky = defineJob({
    kind: 'test.flaky',
    payload: Type.Object({ n: Type.Number() }),
    timeoutMs: 5000,
    maxAttempts: 5,
    retry: { baseMs: 2000, capMs: 2000 },
    run: async () => {
      runs.push(Date.now());
      if (runs.length === 1) throw new Error('first attempt fails');
    },
  });
  const runner = createJobRunner({ deps, analyzer: () => Promise.reject(new Error('no analyzer')) }, [flaky], {
    concurrency: 1,
    leaseSeconds: 300,
    pollIntervalMs: 25,
    idleCapMs: 60_000,
  });
  try {
    runner.start();
    await assertQuiet(counter);

    await enqueueJob(db, flaky, { n: 1 });
    runner.wake();
    await until('the first run', () => runs.length === 1);
    await sleep(300);
    const before = counter.n;
    // the first retry waits between half and all of 2 s (equal jitter)
    await until('the retry', () => runs.length === 2, 8000);
    const waited = runs[1] - runs[0];
    assert.ok(waited >= 900 && waited < 4000, `ran again after ${waited} ms`);
    assert.ok(counter.n - before <= 6, `${counter.n - before} statements while waiting for the retry`);
  } finally {
    await runner.stop();
  }
});
