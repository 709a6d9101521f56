/**
 * POST kycliveness runs one prepared statement (initiate-batcher.ts). Its plan is cached, made from
 * the statistics of its moment, and then serves tables that may look nothing like them. Whatever
 * those statistics say, a batch must cost one index probe per request: a hash or a scan of a whole
 * table is cheap on the tables the planner believes in and ruinous on the real ones (measured:
 * 33 ms per request after one user had been re-initiated a thousand times). The generic plan is
 * made here on such statistics, on PGlite and PostgreSQL, and its shape checked.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Challenge, Db } from '../src/app/ports.ts';
import { INITIATE_SQL, type InitiateRecord } from '../src/app/verifications/initiate-batcher.ts';
import { createClient } from '../src/app/clients/create-client.ts';
import { insertUser } from '../src/storage/db/repo/users.ts';
import { migrate } from '../src/storage/db/migrate.ts';
import { testDatabases } from './helpers/databases.ts';

const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;
/** One row of INITIATE_SQL's batch: a user's only request in it, made now, valid an hour. */
const record = (clientId: string, userId: number, id: string = randomUUID()): InitiateRecord => ({
  id,
  client_id: clientId,
  user_id: userId,
  token_hash: randomUUID(),
  redirect_url: null,
  challenges: [],
  next_id: null,
  first: true,
  at: Date.now() / 1000,
  expires_at: Date.now() / 1000 + 3600,
});

async function genericPlan(db: Db, clientId: string, userId: number): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.exec('set local plan_cache_mode = force_generic_plan');
    await tx.exec(`prepare initiate_plan (json, text) as ${INITIATE_SQL}`);
    const batch = lit(JSON.stringify([record(clientId, userId)]));
    const r = await tx.query<{ 'QUERY PLAN': string }>(
      `explain (costs off) execute initiate_plan(${batch}, 'https://integrator.example/done')`,
    );
    await tx.exec('deallocate initiate_plan');
    return r.rows.map((x) => x['QUERY PLAN']).join('\n');
  });
}

/** The plan reads users and verifications only through index probes keyed by the request. */
function assertProbes(plan: string) {
  assert.doesNotMatch(
    plan,
    /Seq Scan on (users|verifications)\b/,
    `no sequential scan of users or verifications:\n${plan}`,
  );
  assert.doesNotMatch(
    plan,
    /Bitmap Heap Scan on (users|verifications)\b/,
    `no bitmap scan of users or verifications:\n${plan}`,
  );
  // every index scan of users or verifications is keyed (an "Index Cond" right under it)
  const lines = plan.split('\n');
  lines.forEach((line, i) => {
    if (/Index Scan using \w+ on (users|verifications)\b/.test(line))
      assert.match(lines[i + 1] ?? '', /Index Cond:/, `a keyed probe, not a walk of the whole index:\n${plan}`);
  });
  assert.match(plan, /Index Scan using verifications_user on verifications w(_\d+)?\n/, plan);
  assert.match(plan, /Index Scan using verifications_pkey on verifications v\b/, plan);
}

/** Runs INITIATE_SQL on one batch of records, as a flush does. */
const initiate = (db: Db, records: InitiateRecord[]) =>
  db.query(INITIATE_SQL, [JSON.stringify(records), 'https://integrator.example/done']);

for (const backend of await testDatabases()) {
  /** fn on a new, migrated database of this backend, dropped afterwards. */
  async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const { db, drop } = await backend.open();
    try {
      await migrate(db);
      return await fn(db);
    } finally {
      await db.close();
      await drop();
    }
  }

  /** The generic plan, made after `seed` filled the tables and ANALYZE read them. */
  async function planAfter(seed: (db: Db, clientId: string, userId: number) => Promise<void>): Promise<string> {
    return withDb(async (db) => {
      const client = await createClient(db, { name: 'plan', scopes: ['read_write'] });
      const ada = await insertUser(
        db,
        client.clientId,
        { firstname: 'Ada', lastname: 'Lovelace', birthday: '1990-01-01' },
        null,
        new Date(),
      );
      await seed(db, client.clientId, ada.id);
      await db.exec('analyze');
      return genericPlan(db, client.clientId, ada.id);
    });
  }

  describe(`the initiation statement on ${backend.name}`, { skip: backend.skip }, () => {
    // No index may mention the state: an update of an indexed column writes a new entry in every
    // index of the table, where a HOT update writes none (migration 0006).
    test('supersedes the live verification with a HOT update', async () => {
      await withDb(async (db) => {
        const client = await createClient(db, { name: 'hot', scopes: ['read_write'] });
        const ada = await insertUser(
          db,
          client.clientId,
          { firstname: 'Ada', lastname: 'Lovelace', birthday: '1990-01-01' },
          null,
          new Date(),
        );
        const initiateAda = async () => {
          const id = randomUUID();
          await initiate(db, [record(client.clientId, ada.id, id)]);
          return id;
        };
        const stats = async () => {
          await db.query('select pg_stat_force_next_flush()');
          return (
            await db.query<{ upd: number; hot: number }>(
              `select n_tup_upd::int as upd, n_tup_hot_upd::int as hot from pg_stat_user_tables where relname = 'verifications'`,
            )
          ).rows[0];
        };
        const first = await initiateAda();
        const before = await stats();
        const second = await initiateAda();
        const after = await stats();
        const states = await db.query<{ id: string; state: string; superseded_by: string | null }>(
          `select id, state, superseded_by from verifications order by seq`,
        );
        assert.deepEqual(states.rows, [
          { id: first, state: 'superseded', superseded_by: second },
          { id: second, state: 'initiated', superseded_by: null },
        ]);
        assert.deepEqual({ upd: after.upd - before.upd, hot: after.hot - before.hot }, { upd: 1, hot: 1 });
        // Two processes that initiate for Ada at the same moment each leave theirs live (neither
        // sees the other's row): the next initiation supersedes both.
        const racing = (
          await db.query<{ id: string }>(
            `insert into verifications (id, client_id, user_id, method, state, capture_token_hash, redirect_url, expires_at)
          values (gen_random_uuid(), $1, $2, 'liveness', 'initiated', 'racing', 'https://integrator.example/', now() + interval '1 hour') returning id`,
            [client.clientId, ada.id],
          )
        ).rows[0].id;
        const third = await initiateAda();
        const live = await db.query<{ id: string; superseded_by: string | null }>(
          `select id, superseded_by from verifications where id = any($1::uuid[])`,
          [[second, racing]],
        );
        assert.deepEqual(
          live.rows.map((r) => r.superseded_by),
          [third, third],
        );
      });
    });

    // Every verification is updated at least once, and at fillfactor 80 half of those updates found
    // no room on their row's page (migration 0007): re-initiating users whose verifications fill
    // whole pages must still update in place.
    test('supersedes stay HOT when every verification of a page is superseded in turn', async () => {
      await withDb(async (db) => {
        const client = await createClient(db, { name: 'pages', scopes: ['read_write'] });
        const users = (
          await db.query<{ id: number }>(
            `insert into users (client_id, fields, liveness_missing) select $1, '{}', '{}' from generate_series(1, 200) returning id`,
            [client.clientId],
          )
        ).rows.map((r) => r.id);
        const round = () =>
          initiate(
            db,
            users.map((u) => ({
              ...record(client.clientId, u),
              token_hash: randomUUID() + randomUUID(),
              challenges: [{ kind: 'blink', windowSeconds: 8 }],
            })),
          );
        await round();
        for (let i = 0; i < 6; i++) await round();
        await db.query('select pg_stat_force_next_flush()');
        const s = (
          await db.query<{ upd: number; hot: number; pages: number }>(
            `select n_tup_upd::int as upd, n_tup_hot_upd::int as hot, pg_relation_size('verifications')::int / 8192 as pages from pg_stat_user_tables where relname = 'verifications'`,
          )
        ).rows[0];
        assert.equal(s.upd, 6 * users.length);
        assert.ok(s.pages > 20, `the verifications fill many pages (${s.pages})`);
        assert.ok(s.hot / s.upd >= 0.9, `HOT supersedes: ${s.hot} of ${s.upd}`);
      });
    });

    test('stores the clock readings to the millisecond, and a challenge script for certified clients only', async () => {
      await withDb(async (db) => {
        const at = Date.parse('2026-03-01T09:15:42.123Z') / 1000;
        const script: Challenge[] = [
          { kind: 'turn_left', windowSeconds: 8 },
          { kind: 'smile', windowSeconds: 8 },
          { kind: 'blink', windowSeconds: 8 },
        ];
        for (const method of ['liveness', 'certified'] as const) {
          const client = await createClient(db, { name: method, scopes: ['read_write'], method });
          const ada = await insertUser(
            db,
            client.clientId,
            { firstname: 'Ada', lastname: 'Lovelace', birthday: '1990-01-01' },
            null,
            new Date(),
          );
          const id = randomUUID();
          await initiate(db, [
            { ...record(client.clientId, ada.id, id), challenges: script, at, expires_at: at + 604_800 },
          ]);
          const v = (
            await db.query<{
              method: string;
              challenges: unknown;
              created_at: Date;
              updated_at: Date;
              expires_at: Date;
            }>('select method, challenges, created_at, updated_at, expires_at from verifications where id = $1', [id])
          ).rows[0];
          assert.deepEqual(v, {
            method,
            challenges: method === 'certified' ? script : [],
            created_at: new Date('2026-03-01T09:15:42.123Z'),
            updated_at: new Date('2026-03-01T09:15:42.123Z'),
            expires_at: new Date('2026-03-08T09:15:42.123Z'),
          });
        }
      });
    });
  });

  describe(`the initiation statement's cached plan on ${backend.name}`, { skip: backend.skip }, () => {
    // A custom plan costs a planning (about 1 ms here) at every flush: batches of one would pay it
    // each time if the plan cache preferred custom plans for them. (PGlite only: PostgreSQL shows a
    // connection's prepared statements to that connection alone, and the pool has several.)
    if (backend.name === 'pglite')
      test('batches of one run the cached generic plan', async () => {
        await withDb(async (db) => {
          const client = await createClient(db, { name: 'generic', scopes: ['read_write'] });
          const ada = await insertUser(
            db,
            client.clientId,
            { firstname: 'Ada', lastname: 'Lovelace', birthday: '1990-01-01' },
            null,
            new Date(),
          );
          for (let i = 0; i < 12; i++) {
            await db.prepared('initiate_verifications', INITIATE_SQL, [
              JSON.stringify([record(client.clientId, ada.id)]),
              'https://integrator.example/done',
            ]);
          }
          const r = await db.query<{ generic: number; custom: number }>(
            `select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where name = 'initiate_verifications'`,
          );
          // PostgreSQL's plan cache makes five custom plans before it compares.
          assert.deepEqual(r.rows, [{ generic: 7, custom: 5 }]);
        });
      });

    test('made while one user held every verification, it still probes per request', async () => {
      assertProbes(
        await planAfter(async (db, clientId, adaId) => {
          await db.query(
            `insert into users (client_id, fields, liveness_missing) select $1, '{}', '{}' from generate_series(1, 500)`,
            [clientId],
          );
          // Ada was re-initiated 2 000 times: one live verification, the rest superseded.
          await db.query(
            `insert into verifications (id, client_id, user_id, method, state, capture_token_hash, redirect_url, expires_at)
          select gen_random_uuid(), $1, $2, 'liveness', case when n = 2000 then 'initiated' else 'superseded' end, md5(n::text), 'https://integrator.example/', now() + interval '7 days'
            from generate_series(1, 2000) as n`,
            [clientId, adaId],
          );
        }),
      );
    });

    test('made on a thousand users with a live verification each, it probes per request', async () => {
      assertProbes(
        await planAfter(async (db, clientId) => {
          await db.query(
            `insert into users (client_id, fields, liveness_missing) select $1, '{}', '{}' from generate_series(1, 1000)`,
            [clientId],
          );
          await db.query(`insert into verifications (id, client_id, user_id, method, state, capture_token_hash, redirect_url, expires_at)
          select gen_random_uuid(), client_id, id, 'liveness', 'initiated', md5(id::text), 'https://integrator.example/', now() + interval '7 days' from users`);
        }),
      );
    });
  });
}
