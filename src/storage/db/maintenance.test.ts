import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUTOVACUUM_RULE,
  CHECKPOINT_RULE,
  checkpointDue,
  maintenanceDue,
  runMaintenance,
  type TableActivity,
} from './maintenance.ts';
import { migrate } from './migrate.ts';
import { openPgliteThread } from './pglite-thread.ts';

const now = new Date('2026-11-26T10:00:00Z');
const quiet: TableActivity = {
  table: 't',
  live: 1000,
  dead: 0,
  insertedSinceVacuum: 0,
  modifiedSinceAnalyze: 0,
  analyzedAt: now,
  xidAge: 1000,
};

test('vacuums past 50 + 20 % dead tuples, as PostgreSQL autovacuum does', () => {
  assert.deepEqual(maintenanceDue([{ ...quiet, dead: 250 }], now), []);
  assert.deepEqual(maintenanceDue([{ ...quiet, dead: 251 }], now), [{ table: 't', action: 'vacuum' }]);
  // a brand-new table with a few dead rows is left alone
  assert.deepEqual(maintenanceDue([{ ...quiet, live: 0, dead: 50 }], now), []);
});

test('vacuums an append-only table past 1 000 + 20 % inserts, as PostgreSQL 13+ autovacuum does', () => {
  assert.deepEqual(maintenanceDue([{ ...quiet, insertedSinceVacuum: 1200 }], now), []);
  assert.deepEqual(maintenanceDue([{ ...quiet, insertedSinceVacuum: 1201 }], now), [{ table: 't', action: 'vacuum' }]);
  // a bulk load into a small table: 96 000 rows into 500
  assert.deepEqual(maintenanceDue([{ ...quiet, live: 96_500, insertedSinceVacuum: 96_000 }], now), [
    { table: 't', action: 'vacuum' },
  ]);
});

test('vacuums a table whose rows near transaction-id wraparound, whatever its dead tuples', () => {
  assert.deepEqual(maintenanceDue([{ ...quiet, xidAge: AUTOVACUUM_RULE.freezeMaxAge + 1 }], now), [
    { table: 't', action: 'vacuum' },
  ]);
});

test('analyzes past 50 + 10 % modifications, but not twice within the floor interval', () => {
  const busy = { ...quiet, modifiedSinceAnalyze: 151 };
  assert.deepEqual(maintenanceDue([{ ...busy, modifiedSinceAnalyze: 150 }], now), []);
  assert.deepEqual(maintenanceDue([{ ...busy, analyzedAt: null }], now), [{ table: 't', action: 'analyze' }]);
  assert.deepEqual(maintenanceDue([busy], now), [], 'analyzed just now');
  const longAgo = new Date(now.getTime() - AUTOVACUUM_RULE.analyzeMinIntervalMs);
  assert.deepEqual(maintenanceDue([{ ...busy, analyzedAt: longAgo }], now), [{ table: 't', action: 'analyze' }]);
  assert.deepEqual(maintenanceDue([{ ...busy, analyzedAt: null, dead: 1000 }], now), [
    { table: 't', action: 'vacuum' },
    { table: 't', action: 'analyze' },
  ]);
});

// A pass that removes dead tuples, on PGlite and on a PostgreSQL without autovacuum: test/own-maintenance.test.ts.

test("checkpoints every 5 minutes, or sooner after 512 MB of WAL, as PostgreSQL's checkpointer does by default", () => {
  assert.equal(checkpointDue({ seconds: 299, walBytes: 0 }), false);
  assert.equal(checkpointDue({ seconds: 300, walBytes: 0 }), true);
  assert.equal(checkpointDue({ seconds: 10, walBytes: CHECKPOINT_RULE.walBytes - 1 }), false);
  assert.equal(checkpointDue({ seconds: 10, walBytes: CHECKPOINT_RULE.walBytes }), true);
});

test('on PGlite (no checkpointer of its own) a pass checkpoints when one is due, and not otherwise', async () => {
  const db = await openPgliteThread();
  try {
    await migrate(db);
    const checkpointLsn = async () =>
      (await db.query<{ lsn: string }>('select checkpoint_lsn::text as lsn from pg_control_checkpoint()')).rows[0].lsn;
    await db.query(`insert into clients (id, name, secret_hash, scopes) values ('c1', 'n', 'x', '{}')`);
    await db.query(`insert into users (client_id) select 'c1' from generate_series(1, 2000)`);
    const before = await checkpointLsn();
    // Just written: neither 5 minutes nor 512 MB since the last checkpoint.
    assert.deepEqual(
      (await runMaintenance(db, new Date())).filter((m) => m.action === 'checkpoint'),
      [],
    );
    assert.equal(await checkpointLsn(), before);
    // The rule scaled down to the WAL these inserts wrote.
    const done = await runMaintenance(db, new Date(), { timeoutSeconds: 300, walBytes: 1 });
    assert.deepEqual(
      done.filter((m) => m.action === 'checkpoint'),
      [{ action: 'checkpoint' }],
    );
    assert.notEqual(await checkpointLsn(), before);
  } finally {
    await db.close();
  }
});

test('on PGlite an ANALYZE samples 3 000 rows and keeps ten-bucket statistics: it holds the only database thread', async () => {
  const db = await openPgliteThread();
  try {
    assert.equal(
      (await db.query<{ default_statistics_target: string }>('show default_statistics_target')).rows[0]
        .default_statistics_target,
      '10',
    );
    await db.exec('create table s (n int)');
    await db.query('insert into s select g from generate_series(1, 20000) g');
    await db.exec('analyze s');
    const st = (
      await db.query<{ bounds: number }>(
        `select array_length(histogram_bounds::text::int[], 1) as bounds from pg_stats where tablename = 's' and attname = 'n'`,
      )
    ).rows[0];
    // 100 + 1 bounds at PostgreSQL's default target
    assert.equal(st.bounds, 11);
  } finally {
    await db.close();
  }
});
