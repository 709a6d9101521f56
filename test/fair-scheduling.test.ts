/**
 * Analyses are shared fairly between tenants (issue 25, item 5): a tenant's backlog of jobs cannot
 * keep another tenant's analysis waiting behind it, in the job queue (both databases) and in the
 * engine pool's choice of the next part.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Type } from '@sinclair/typebox';
import { type AppDeps, silentLog } from '../src/app/deps.ts';
import { defineJob, enqueueJob } from '../src/app/jobs.ts';
import { type Db, systemClock } from '../src/app/ports.ts';
import { fairIndex } from '../src/engine/pool.ts';
import { migrate } from '../src/storage/db/migrate.ts';
import { createJobRunner } from '../src/worker/job-runner.ts';
import { testDatabases } from './helpers/databases.ts';

test('the engine pool starts the oldest part of the tenant with the fewest parts running', () => {
  assert.equal(fairIndex([], new Map()), -1);
  assert.equal(fairIndex(['a', 'a', 'b'], new Map()), 0);
  assert.equal(fairIndex(['a', 'a', 'b'], new Map([['a', 2]])), 2);
  assert.equal(
    fairIndex(
      ['a', 'b', 'c'],
      new Map([
        ['a', 1],
        ['b', 1],
      ]),
    ),
    2,
  );
  assert.equal(
    fairIndex(
      ['a', 'b'],
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    ),
    1,
  );
});

for (const backend of await testDatabases()) {
  describe(`fair job queue on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Db;
    let drop: () => Promise<void>;
    before(async () => {
      const o = await backend.open();
      db = o.db;
      drop = o.drop;
      await migrate(db);
    });
    after(async () => {
      await db?.close();
      await drop?.();
    });

    test("one tenant's backlog does not hold another tenant's job", async () => {
      const order: string[] = [];
      const job = defineJob({
        kind: 'test.fair',
        payload: Type.Object({ name: Type.String() }),
        timeoutMs: 5000,
        maxAttempts: 1,
        retry: { baseMs: 1000, capMs: 1000 },
        run: async (_ctx, p) => {
          order.push(p.name);
        },
      });
      const t0 = Date.now() - 60_000;
      for (let i = 1; i <= 4; i++)
        await enqueueJob(db, job, { name: `a${i}` }, { tenant: 'tenant-a', runAt: new Date(t0 + i) });
      await enqueueJob(db, job, { name: 'b1' }, { tenant: 'tenant-b', runAt: new Date(t0 + 10) });
      const deps = { db, clock: systemClock, log: silentLog } as unknown as AppDeps;
      const runner = createJobRunner({ deps, analyzer: () => Promise.reject(new Error('none')) }, [job], {
        concurrency: 1,
        leaseSeconds: 60,
        pollIntervalMs: 20,
      });
      runner.start();
      try {
        await runner.idle();
      } finally {
        await runner.stop();
      }
      // Before: first come, first served, and b1 ran last.
      assert.deepEqual(order, ['a1', 'b1', 'a2', 'a3', 'a4']);
    });
  });
}
