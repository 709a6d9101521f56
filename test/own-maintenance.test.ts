/**
 * Who vacuums kyclive's tables: PGlite never does (no autovacuum worker), PostgreSQL does unless its
 * autovacuum is turned off, and then kyclive applies autovacuum's rules itself. The PostgreSQL
 * case is checked against the server's actual setting: either branch can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Log } from '../src/app/deps.ts';
import { ownMaintenanceReason, runMaintenance } from '../src/storage/db/maintenance.ts';
import { migrate } from '../src/storage/db/migrate.ts';
import { testDatabases } from './helpers/databases.ts';
import { startTestServer } from './helpers/runtime.ts';

for (const tdb of await testDatabases()) {
  test(`${tdb.name}: kyclive vacuums and analyzes its tables exactly when the database does not`, {
    skip: tdb.skip,
  }, async () => {
    const { db, drop } = await tdb.open();
    try {
      await migrate(db);
      const reason = await ownMaintenanceReason(db);
      // kyclive's VACUUMs run flat out on PGlite, where every request waits for them anyway, and
      // throttled like autovacuum's on PostgreSQL, where they run beside the requests.
      const costDelays = await Promise.all(
        [1, 2, 3].map(
          async () =>
            (await db.query<{ vacuum_cost_delay: string }>('show vacuum_cost_delay')).rows[0].vacuum_cost_delay,
        ),
      );
      if (tdb.name === 'pglite') {
        assert.equal(reason, 'embedded database');
        assert.deepEqual(costDelays, ['0', '0', '0']);
      } else {
        const setting = (await db.query<{ autovacuum: string }>('show autovacuum')).rows[0].autovacuum;
        assert.equal(reason, setting === 'on' ? null : 'autovacuum off', `autovacuum=${setting}`);
        assert.deepEqual(costDelays, ['2ms', '2ms', '2ms'], 'on every connection of the pool');
      }
      if (reason !== null) {
        // A pass removes the dead tuples that updates left and analyzes the never-analyzed table.
        await db.query(`insert into clients (id, name, secret_hash, scopes) values ('c1', 'n', 'x', '{}')`);
        await db.query(`insert into users (client_id) select 'c1' from generate_series(1, 2000)`);
        await db.query('update users set kyc_level = 1');
        await db.query('update users set kyc_level = 2');
        const stats = async () =>
          (
            await db.query<{ dead: number; vacuumed: Date | null }>(
              `select n_dead_tup as dead, last_vacuum as vacuumed from pg_stat_user_tables where relname = 'users'`,
            )
          ).rows[0];
        // PostgreSQL publishes its table statistics at most once a second.
        const until = async (reached: (dead: number) => boolean) => {
          for (let i = 0; i < 50 && !reached(Number((await stats()).dead)); i++) await sleep(100);
        };
        await until((dead) => dead > 0);
        assert.ok(Number((await stats()).dead) >= 4000, 'the updates left dead tuples');
        const done = await runMaintenance(db, new Date());
        assert.ok(
          done.some((m) => m.table === 'users' && m.action === 'vacuum'),
          JSON.stringify(done),
        );
        assert.ok(
          done.some((m) => m.table === 'users' && m.action === 'analyze'),
          'never analyzed: analyzed now',
        );
        // PGlite has no checkpointer (a separate test); PostgreSQL's checkpoints by itself.
        if (tdb.name === 'postgres') assert.ok(!done.some((m) => m.action === 'checkpoint'));
        await until((dead) => dead === 0);
        const after = await stats();
        assert.equal(Number(after.dead), 0);
        assert.ok(after.vacuumed);
        assert.deepEqual(
          (await runMaintenance(db, new Date())).filter((m) => m.table === 'users'),
          [],
          'nothing left to do',
        );
      }
      // On PostgreSQL the server warns at start when it takes the job on, and only then.
      const warnings: string[] = [];
      const log: Log = {
        info() {},
        error() {},
        warn(_obj, msg) {
          warnings.push(msg ?? '');
        },
      };
      const server = await startTestServer(db, { log }); // starts the background loops
      await server.close(); // closes db too
      assert.equal(
        warnings.some((w) => w.startsWith('autovacuum is off')),
        reason === 'autovacuum off',
        JSON.stringify(warnings),
      );
    } finally {
      await db.close().catch(() => {});
      await drop();
    }
  });
}
