/**
 * The Db port on both adapters: migrations are applied once and are no-ops afterwards (restarts),
 * rowCount means the same thing, transactions roll back on error, and an embedded database
 * survives close and reopen. Also the embedded server's adapter, PGlite in a worker thread.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queryable } from '../../src/app/ports.ts';
import { listMigrations, migrate, MIGRATIONS_DIR } from '../../src/storage/db/migrate.ts';
import { openPglite } from '../../src/storage/db/pglite.ts';
import { openPgliteThread } from '../../src/storage/db/pglite-thread.ts';
import { autoPrepared, preparedRunner } from '../../src/storage/db/pglite-prepared.mjs';
import { openPostgres } from '../../src/storage/db/postgres.ts';
import { testDatabases } from '../helpers/databases.ts';

// the suites' two databases (PGlite in its own thread, as the server opens it, and PostgreSQL),
// and PGlite in process, the other embedded adapter
const inProcess = {
  name: 'pglite in process',
  skip: undefined,
  open: async () => ({ db: await openPglite(), drop: async () => {} }),
};

for (const backend of [...(await testDatabases()), inProcess]) {
  describe(`Db port on ${backend.name}`, { skip: backend.skip }, () => {
    test('migrations apply once; rowCount counts selected and changed rows; failed transactions leave nothing', async () => {
      const { db, drop } = await backend.open();
      try {
        const first = await migrate(db);
        assert.deepEqual(
          first,
          listMigrations().map((m) => m.id),
        );
        assert.deepEqual(await migrate(db), []);
        // Two migrators at once: each migration is still applied exactly once.
        await Promise.all([migrate(db), migrate(db)]);
        const applied = await db.query<{ id: number }>('select id from kyclive_migrations order by id');
        assert.deepEqual(
          applied.rows.map((r) => r.id),
          first,
        );

        await db.query(
          `insert into clients (id, name, secret_hash, scopes) values ('c1', 'one', 'x', '{read_only}'), ('c2', 'two', 'x', '{read_only}')`,
        );
        assert.equal((await db.query('select id from clients')).rowCount, 2);
        assert.equal((await db.query(`update clients set name = name where id in ('c1', 'c2')`)).rowCount, 2);
        assert.equal((await db.query(`delete from clients where id = 'none'`)).rowCount, 0);

        // Schema: a verification's user belongs to the verification's client (migrations 0005, 0007),
        // whichever side would break it.
        const user = (await db.query<{ id: number }>(`insert into users (client_id) values ('c2') returning id`))
          .rows[0].id;
        const other = (await db.query<{ id: number }>(`insert into users (client_id) values ('c1') returning id`))
          .rows[0].id;
        const verification = (client: string, ...ids: string[]) =>
          db.query(
            `insert into verifications (id, client_id, user_id, method, state, capture_token_hash, redirect_url, expires_at)
           select id, $1, $2, 'liveness', 'initiated', id::text, 'https://x.example/', now() from unnest($3::uuid[]) as id`,
            [client, user, ids],
          );
        const brokenKey = (e: Error & { code?: string }) => e.code === '23503';
        await assert.rejects(verification('c1', '00000000-0000-4000-8000-00000000000a'), brokenKey);
        // one wrong row of many: the statement writes none
        await assert.rejects(
          db.query(
            `insert into verifications (id, client_id, user_id, method, state, capture_token_hash, redirect_url, expires_at)
           values ('00000000-0000-4000-8000-00000000000c', 'c2', $1, 'liveness', 'initiated', 'c', 'https://x.example/', now()),
                  ('00000000-0000-4000-8000-00000000000d', 'c2', 999999999, 'liveness', 'initiated', 'd', 'https://x.example/', now())`,
            [user],
          ),
          brokenKey,
        );
        assert.equal((await db.query('select 1 from verifications')).rowCount, 0);
        assert.equal(
          (await verification('c2', '00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-00000000000e'))
            .rowCount,
          2,
        );
        await assert.rejects(db.query(`update verifications set user_id = $1, client_id = 'c1'`, [other]), brokenKey);
        await assert.rejects(db.query('delete from users where id = $1', [user]), brokenKey);
        await assert.rejects(db.query(`update users set client_id = 'c1' where id = $1`, [user]), brokenKey);
        assert.equal((await db.query(`update verifications set state = 'superseded', client_id = 'c2'`)).rowCount, 2);
        assert.equal((await db.query(`select 1 from users where client_id = 'c2' and id = $1`, [user])).rowCount, 1);
        await db.query('delete from verifications');
        await db.query('delete from users');

        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.query(
              `insert into clients (id, name, secret_hash, scopes) values ('c3', 'three', 'x', '{read_only}')`,
            );
            await tx.query('select no_such_column from clients');
          }),
        );
        assert.equal((await db.query(`select 1 from clients where id = 'c3'`)).rowCount, 0);
        // The connection is usable after the failed transaction (PGlite has only one).
        assert.equal((await db.query('select 1 as one')).rows[0].one, 1);
      } finally {
        await db.close();
        await drop();
      }
    });

    // Migration 0006 gives existing verifications a seq, by which a user's latest is found from then
    // on: in creation order, and among rows that share a timestamp (a chain written by one flush)
    // the live one last.
    test('migration 0006 numbers existing verifications in creation order, the live one of a chain last', async () => {
      const { db, drop } = await backend.open();
      const upTo5 = mkdtempSync(join(tmpdir(), 'kyclive-migrations-'));
      try {
        for (const m of listMigrations().filter((m) => m.id <= 5))
          copyFileSync(join(MIGRATIONS_DIR, `${m.name}.sql`), join(upTo5, `${m.name}.sql`));
        await migrate(db, upTo5);
        await db.query(`insert into clients (id, name, secret_hash, scopes) values ('c6', 'n', 'x', '{}')`);
        const user = (
          await db.query<{ id: number }>(`insert into users (client_id, fields) values ('c6', '{}') returning id`)
        ).rows[0].id;
        const v = (n: number) => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;
        // Inserted out of order: the chain 2 → 3 → 1 shares a timestamp, and the live one, 1, has the
        // smallest id; 9 is a day older.
        await db.query(
          `insert into verifications (id, client_id, user_id, method, state, superseded_by, capture_token_hash, redirect_url, expires_at, created_at) values
          ($2, 'c6', $1, 'liveness', 'initiated', null, 'h1', 'https://x.example/', $6::timestamptz + interval '7 days', $6),
          ($3, 'c6', $1, 'liveness', 'superseded', $4, 'h2', 'https://x.example/', $6::timestamptz + interval '7 days', $6),
          ($5, 'c6', $1, 'liveness', 'processed', null, 'h9', 'https://x.example/', $6::timestamptz + interval '6 days', $6::timestamptz - interval '1 day'),
          ($4, 'c6', $1, 'liveness', 'superseded', $2, 'h3', 'https://x.example/', $6::timestamptz + interval '7 days', $6)`,
          [user, v(1), v(2), v(3), v(9), new Date('2026-11-20T10:00:00Z')],
        );
        assert.deepEqual(
          await migrate(db),
          listMigrations()
            .filter((m) => m.id > 5)
            .map((m) => m.id),
        );
        const order = await db.query<{ id: string }>('select id from verifications order by seq');
        assert.deepEqual(
          order.rows.map((r) => r.id),
          [v(9), v(2), v(3), v(1)],
        );
        const next = await db.query<{ id: string }>(
          `insert into verifications (id, client_id, user_id, method, state, capture_token_hash, redirect_url, expires_at)
          values ($2, 'c6', $1, 'liveness', 'initiated', 'h4', 'https://x.example/', now()) returning id`,
          [user, v(4)],
        );
        assert.equal(next.rowCount, 1);
        assert.deepEqual(
          (
            await db.query<{ id: string }>(
              'select id from verifications where user_id = $1 order by seq desc limit 1',
              [user],
            )
          ).rows,
          [{ id: v(4) }],
        );
      } finally {
        rmSync(upTo5, { recursive: true, force: true });
        await db.close();
        await drop();
      }
    });

    test('prepared statements: same rows and values as query(), reused, errors surfaced, and they wait for an open transaction', async () => {
      const { db, drop } = await backend.open();
      try {
        await db.exec('create table p (id uuid primary key, n bigint, t text, j jsonb, at timestamptz, tags text[])');
        const sql = `insert into p select * from unnest($1::uuid[], $2::bigint[], $3::text[], $4::jsonb[], $5::timestamptz[]) as x(id, n, t, j, at), lateral (select $6::text[]) tags
                     returning id, n, t, j, at, tags`;
        const at = new Date('2026-01-02T03:04:05.678Z');
        const args = (ids: string[]) => [
          ids,
          [1, 2],
          ["it's", null],
          ['{"a":[1,"b"]}', '{}'],
          [at, at],
          ['x', 'y "z"'],
        ];
        const ids1 = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'];
        const ids2 = ['00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000004'];
        const ids3 = ['00000000-0000-4000-8000-000000000005', '00000000-0000-4000-8000-000000000006'];
        const viaQuery = await db.query(sql, args(ids1));
        const first = await db.prepared('p_insert', sql, args(ids2));
        const again = await db.prepared('p_insert', sql, args(ids3));
        const strip = (r: { rows: Record<string, unknown>[] }) => r.rows.map(({ id: _id, ...rest }) => rest);
        assert.deepEqual(strip(first), strip(viaQuery));
        assert.deepEqual(strip(again), strip(viaQuery));
        assert.deepEqual(first.rows[0], { id: ids2[0], n: 1, t: "it's", j: { a: [1, 'b'] }, at, tags: ['x', 'y "z"'] });
        assert.equal(again.rowCount, 2);
        // A failing execution (duplicate key) is an error, leaves nothing, and the statement still works.
        await assert.rejects(
          db.prepared('p_insert', sql, args(ids3)),
          (e: Error & { code?: string }) => e.code === '23505',
        );
        assert.equal(
          (await db.prepared('p_count', 'select count(*)::int as c from p where n = any($1::bigint[])', [[1, 2]]))
            .rows[0].c,
          6,
        );
        // Outside any transaction: on the embedded database it waits for the open one to end.
        let seen: number | undefined;
        await db.transaction(async (tx) => {
          await tx.query(`insert into p (id, n) values ('00000000-0000-4000-8000-000000000007', 1)`);
          const waiting = db
            .prepared('p_count', 'select count(*)::int as c from p where n = any($1::bigint[])', [[1, 2]])
            .then((r) => {
              seen = r.rows[0].c as number;
            });
          await new Promise((r) => setTimeout(r, 50));
          if (db.kind === 'pglite') assert.equal(seen, undefined);
          else {
            await waiting;
            assert.equal(seen, 6);
          } // PostgreSQL: another connection, the committed rows only
        });
        await new Promise((r) => setTimeout(r, 20));
        if (db.kind === 'pglite') assert.equal(seen, 7);
      } finally {
        await db.close();
        await drop();
      }
    });
  });
}

for (const [how, open] of [
  ['in process', openPglite],
  ['in a worker thread', openPgliteThread],
] as const) {
  test(`an embedded database (${how}) keeps its data and migration state across restarts`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kyclive-db-'));
    try {
      const a = await open(dir);
      await migrate(a);
      await a.query(`insert into clients (id, name, secret_hash, scopes) values ('keep', 'k', 'x', '{read_only}')`);
      await a.close();
      const b = await open(dir);
      assert.deepEqual(await migrate(b), []);
      assert.equal((await b.query(`select 1 from clients where id = 'keep'`)).rowCount, 1);
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// The embedded database skips zeroing new WAL segments (pglite-settings.mjs). What a killed
// process had committed must still be there, also in a segment it had just started.
test('an embedded database recovers what was committed when its process is killed, across a new WAL segment', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kyclive-db-'));
  try {
    const adapter = new URL('../../src/storage/db/pglite.ts', import.meta.url).href;
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `
      const { openPglite } = await import(${JSON.stringify(adapter)});
      const db = await openPglite(${JSON.stringify(dir)});
      await db.exec('create table t (n int primary key)');
      await db.query('insert into t values (1)');
      const seg = async () => (await db.query('select pg_walfile_name(pg_current_wal_lsn()) as f')).rows[0].f;
      const before = await seg();
      await db.query('select pg_switch_wal()');
      await db.query('insert into t values (2)');
      const after = await seg();
      const zero = (await db.query('show wal_init_zero')).rows[0].wal_init_zero;
      console.log(JSON.stringify({ before, after, zero }));
      process.kill(process.pid, 'SIGKILL');`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    const seen = JSON.parse(child.stdout.trim());
    assert.notEqual(seen.after, seen.before, 'the second row went to a new segment');
    assert.equal(seen.zero, 'off');
    const db = await openPglite(dir);
    try {
      assert.deepEqual((await db.query<{ n: number }>('select n from t order by n')).rows, [{ n: 1 }, { n: 2 }]);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('PGlite in a worker thread', () => {
  // one database for these tests: opening one takes seconds
  let db: Awaited<ReturnType<typeof openPgliteThread>>;
  before(async () => {
    db = await openPgliteThread();
  });
  after(async () => {
    await db.close();
  });

  test('errors keep their SQLSTATE, values cross intact, a plain query waits for an open transaction', async () => {
    await db.exec('create table t (id int primary key, at timestamptz, bytes bytea, doc jsonb)');
    const at = new Date('2026-11-26T10:00:00.123Z');
    await db.query('insert into t values ($1, $2, $3, $4)', [1, at, Buffer.from([0, 1, 254, 255]), { a: [1, 'x'] }]);
    const row = (
      await db.query<{ at: Date; bytes: Uint8Array; doc: unknown }>('select at, bytes, doc from t where id = 1')
    ).rows[0];
    assert.equal(row.at.toISOString(), at.toISOString());
    assert.deepEqual([...row.bytes], [0, 1, 254, 255]);
    assert.deepEqual(row.doc, { a: [1, 'x'] });
    const dup = await db
      .query('insert into t (id) values (1)')
      .catch((e: Error & { code?: string; constraint?: string }) => e);
    assert.ok(dup instanceof Error);
    assert.equal((dup as { code?: string }).code, '23505');
    assert.equal((dup as { constraint?: string }).constraint, 't_pkey');
    // the plain query sent while the transaction is open runs after its commit and sees its row
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const tx = db.transaction(async (q) => {
      await q.query('insert into t (id) values (2)');
      await gate;
      return 'done';
    });
    await new Promise((r) => setTimeout(r, 20));
    const plain = db.query('select count(*)::int as n from t');
    release();
    assert.equal(await tx, 'done');
    assert.equal((await plain).rows[0].n, 2);
    // a statement's SQL crosses to the thread with its first call only, and again when it changes
    assert.deepEqual((await db.prepared('named', 'select 1 as n', [])).rows, [{ n: 1 }]);
    assert.deepEqual((await db.prepared('named', 'select 1 as n', [])).rows, [{ n: 1 }]);
    assert.deepEqual((await db.prepared('named', 'select $1::int + 1 as n', [1])).rows, [{ n: 2 }]);
  });

  test('preparedBatch joins the calls that queue while the database is busy, each getting its own rows', async () => {
    await db.exec('create table b (n serial primary key, id uuid not null unique, tag text not null)');
    // one row per element of the batch, numbered in the order they are inserted; txid tells which
    // statement (each is its own transaction) did it
    const sql = `with ins as (insert into b (id, tag) select x.id, $2 from rows from (json_to_recordset($1::json) as (id uuid)) with ordinality as x(id, ord) order by ord returning id, n)
                 select id, n, txid_current()::text as tx from ins`;
    const ids = (k: number) => Array.from({ length: k }, () => randomUUID());
    const call = (batchIds: string[], tag = 'a') =>
      db.preparedBatch!<{ id: string; n: number; tx: string }>(
        'b_insert',
        sql,
        JSON.stringify(batchIds.map((id) => ({ id }))),
        batchIds,
        [tag],
      );
    // busy: the calls sent meanwhile queue behind this
    const busy = db.query('select pg_sleep(0.1)');
    const groups = [ids(2), ids(1), ids(3)];
    const other = ids(1);
    const results = await Promise.all([...groups.map((g) => call(g)), call(other, 'b')]);
    await busy;
    groups.forEach((g, i) =>
      assert.deepEqual(
        results[i].rows.map((r) => r.id),
        g,
        `call ${i} gets its own rows`,
      ),
    );
    assert.equal(
      new Set(results.slice(0, 3).flatMap((r) => r.rows.map((x) => x.tx))).size,
      1,
      'the three calls ran as one statement',
    );
    assert.notEqual(results[3].rows[0].tx, results[0].rows[0].tx, 'other parameters: a statement of its own');
    assert.deepEqual(
      results.slice(0, 3).flatMap((r) => r.rows.map((x) => x.n)),
      [1, 2, 3, 4, 5, 6],
      'in call order',
    );
    // a call whose rows make the joined statement fail fails alone, and the others' rows are in
    const dup = ids(1);
    const busy2 = db.query('select pg_sleep(0.1)');
    const [ok1, bad, ok2] = await Promise.allSettled([call(ids(1)), call([...dup, groups[0][0]]), call(dup)]);
    await busy2;
    assert.equal(ok1.status, 'fulfilled');
    assert.equal(bad.status, 'rejected');
    assert.equal((bad as PromiseRejectedResult).reason.code, '23505');
    assert.equal(ok2.status, 'fulfilled');
    assert.equal((await db.query('select count(*)::int as c from b where id = $1', [dup[0]])).rows[0].c, 1);
    await assert.rejects(db.preparedBatch!('b_insert', sql, ' []', [], ['a']), /JSON array/);
  });

  test('preparedBatch: joined batches keep multi-byte text intact, and empty ones join as nothing', async () => {
    await db.exec('create table bl (id uuid primary key, label text not null)');
    const sql = `insert into bl (id, label) select x.id, x.label from json_to_recordset($1::json) as x(id uuid, label text) returning id, label, txid_current()::text as tx`;
    const rows = (labels: string[]) => labels.map((label) => ({ id: randomUUID(), label }));
    const call = (batch: string, ids: string[]) =>
      db.preparedBatch!<{ id: string; label: string; tx: string }>('bl_insert', sql, batch, ids, []);
    const a = rows(['é漢🙂', 'a\u0000b'.replace('\u0000', '\\')]);
    const c = rows(['"quoted", {braces}', '']);
    const busy = db.query('select pg_sleep(0.1)');
    const results = await Promise.all([
      call(
        JSON.stringify(a),
        a.map((r) => r.id),
      ),
      call('[]', []),
      call('[ \n]', []),
      call(
        JSON.stringify(c),
        c.map((r) => r.id),
      ),
    ]);
    await busy;
    assert.deepEqual(
      results[0].rows.map((r) => r.label),
      a.map((r) => r.label),
    );
    assert.deepEqual(results[1].rows, []);
    assert.deepEqual(results[2].rows, []);
    assert.deepEqual(
      results[3].rows.map((r) => r.label),
      c.map((r) => r.label),
    );
    if (db.kind === 'pglite')
      assert.equal(results[0].rows[0].tx, results[3].rows[0].tx, 'the calls ran as one statement');
  });
});

test('PGlite prepared statements encode their parameters into one reused buffer: every value arrives intact, and a call allocates no copies of them', async () => {
  const db = await openPglite();
  try {
    const run = preparedRunner(db.raw);
    await db.exec('create table v (id int primary key, t text, b bytea)');
    const big = 'é€😀'.repeat(30_000); // 270 kB of UTF-8: more than the buffer starts with
    const values: [number, string | null][] = [
      [1, 'plain'],
      [2, ''],
      [3, null],
      [4, 'é€😀 "quoted" \\ back'],
      [5, big],
      [6, 'after the big one'],
    ];
    // sent together: they queue behind each other, each encoded into the same buffer as it runs
    await Promise.all(values.map(([id, t]) => run('v_insert', 'insert into v (id, t) values ($1, $2)', [id, t])));
    const rows = (await run('v_read', 'select id, t from v order by id', [])).rows as {
      id: number;
      t: string | null;
    }[];
    assert.deepEqual(
      rows.map((r) => [r.id, r.t]),
      values,
    );
    // bytea crosses in its text form
    await run('v_bytes', 'insert into v (id, b) values ($1, $2)', [7, new Uint8Array([0, 1, 254, 255])]);
    assert.deepEqual(
      [...((await run('v_b', 'select b from v where id = $1', [7])).rows[0] as { b: Uint8Array }).b],
      [0, 1, 254, 255],
    );
    // PGlite's serializer made about six copies of each parameter (48 kB of ArrayBuffers for this
    // 8 kB one), and under load their churn set off a full garbage collection every half second.
    const json = JSON.stringify(Array.from({ length: 25 }, (_, i) => ({ i, pad: 'x'.repeat(300) })));
    await run('v_json', 'select count(*)::int as n from json_array_elements($1::json)', [json]);
    let grown = 0;
    for (let i = 0; i < 200; i++) {
      const before = process.memoryUsage().arrayBuffers;
      await run('v_json', 'select count(*)::int as n from json_array_elements($1::json)', [json]);
      grown += Math.max(0, process.memoryUsage().arrayBuffers - before);
    }
    assert.ok(
      grown / 200 < json.length / 2,
      `ArrayBuffers grew by ${Math.round(grown / 200)} bytes per call for an ${json.length}-byte parameter`,
    );
  } finally {
    await db.close();
  }
});

test('PGlite prepared statements are planned again once they are replanAfterMs old, so a plan made on small tables does not outlive them', async () => {
  const db = await openPglite();
  try {
    let now = 0;
    const run = preparedRunner(db.raw, { replanAfterMs: 1000, now: () => now });
    await db.exec('create table t (id int primary key)');
    const executions = async () =>
      (
        await db.query<{ n: number }>(
          `select (generic_plans + custom_plans)::int as n from pg_prepared_statements where name = 'grow'`,
        )
      ).rows[0]?.n;
    for (let i = 0; i < 7; i++) await run('grow', 'select count(*)::int as n from t where id > $1', [i]);
    assert.equal(await executions(), 7, 'one statement, executed seven times');
    now += 999;
    await run('grow', 'select count(*)::int as n from t where id > $1', [0]);
    assert.equal(await executions(), 8, 'still the same statement just before the limit');
    now += 1;
    await db.exec('insert into t select generate_series(1, 1000)');
    const r = await run('grow', 'select count(*)::int as n from t where id > $1', [0]);
    assert.deepEqual(r.rows, [{ n: 1000 }]);
    assert.equal(await executions(), 1, 'parsed and planned anew');
  } finally {
    await db.close();
  }
});

test('PGlite queries run as named statements, in and out of transactions: one per SQL text, bounded, parsed again when a migration changes their columns', async () => {
  const db = await openPglite();
  try {
    const run = preparedRunner(db.raw);
    const { query } = autoPrepared(db.raw, run, { maxStatements: 3 });
    const autoStatements = async () =>
      (
        await db.raw.query<{ name: string; n: number }>(
          `select name, (generic_plans + custom_plans)::int as n from pg_prepared_statements where name like 'auto\\_%' order by name`,
        )
      ).rows;
    await db.exec('create table t (id int primary key, v text)');
    assert.deepEqual(await query('insert into t values ($1, $2), ($3, $4)', [1, 'a', 2, null]), {
      rows: [],
      affectedRows: 2,
    });
    for (let i = 0; i < 3; i++)
      assert.deepEqual((await query('select * from t where id >= $1 order by id', [1])).rows, [
        { id: 1, v: 'a' },
        { id: 2, v: null },
      ]);
    assert.deepEqual(
      (await autoStatements()).map((s) => s.n),
      [1, 3],
      'the insert once, the select three times, each one statement',
    );
    // the table gains a column: the cached `select *` would now return another row type
    await db.exec('alter table t add column w int default 7');
    assert.deepEqual((await query('select * from t where id >= $1 order by id', [2])).rows, [{ id: 2, v: null, w: 7 }]);
    // utility statements keep PGlite's own path
    await query('vacuum t');
    await query('analyze t');
    // SQL whose text varies does not grow the cache past its bound
    for (let i = 0; i < 10; i++) await query(`select $1::int + ${i} as n`, [1]);
    await new Promise((r) => setTimeout(r, 10));
    assert.ok((await autoStatements()).length <= 3, 'at most maxStatements of them stay prepared');
    assert.deepEqual((await query('select $1::int + 9 as n', [1])).rows, [{ n: 10 }]);
    // errors surface with their SQLSTATE, as from PGlite's query()
    await assert.rejects(
      query('insert into t (id) values ($1)', [1]),
      (e: Error & { code?: string }) => e.code === '23505',
    );
    // inside a transaction (the adapter's own instance): named statements too, undone by a rollback,
    // and refused once the transaction has ended
    let leaked: Queryable | undefined;
    await assert.rejects(
      db.transaction(async (tx) => {
        leaked = tx;
        await tx.query('insert into t (id, v) values ($1, $2)', [3, 'c']);
        assert.deepEqual((await tx.query('select id, v from t where id = $1', [3])).rows, [{ id: 3, v: 'c' }]);
        throw new Error('undo');
      }),
      /undo/,
    );
    assert.equal((await db.query('select 1 from t where id = $1', [3])).rowCount, 0);
    assert.equal(
      (
        await db.raw.query(
          `select 1 from pg_prepared_statements where statement = 'insert into t (id, v) values ($1, $2)'`,
        )
      ).rows.length,
      1,
    );
    await assert.rejects(leaked!.query('select 1 as one'), /closed/);
    assert.equal(
      await db.transaction(async (tx) => (await tx.query<{ n: number }>('select count(*)::int as n from t')).rows[0].n),
      2,
    );
  } finally {
    await db.close();
  }
});

test('PostgreSQL: an idle connection that the server closes is reported, not fatal, and the next query gets a new one', {
  skip: (await testDatabases()).find((b) => b.name === 'postgres')?.skip,
}, async () => {
  const backend = (await testDatabases()).find((b) => b.name === 'postgres')!;
  const { db: admin, url, drop } = await backend.open();
  const errors: Error[] = [];
  const db = await openPostgres(url!, { max: 1, onIdleError: (e) => errors.push(e) });
  try {
    const pid = (await db.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
    // as a restart or a failover would: the server ends the pool's idle connection
    await admin.query('select pg_terminate_backend($1)', [pid]);
    for (let i = 0; i < 200 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /terminating connection/);
    const again = await db.query<{ pid: number }>('select pg_backend_pid() as pid');
    assert.notEqual(again.rows[0].pid, pid);
  } finally {
    await db.close();
    await admin.close();
    await drop();
  }
});

test("PostgreSQL drops a connection's cached plans once they are replanAfterMs old, so a plan made on small tables does not outlive them", {
  skip: (await testDatabases()).find((b) => b.name === 'postgres')?.skip,
}, async () => {
  const backend = (await testDatabases()).find((b) => b.name === 'postgres')!;
  const { db: admin, url, drop } = await backend.open();
  let now = 0;
  // One connection, so that EXPLAIN EXECUTE sees the statement prepared() made.
  const db = await openPostgres(url!, { max: 1, replanAfterMs: 1000, now: () => now });
  try {
    // No autovacuum on it: only the adapter can make PostgreSQL plan the statement again.
    await db.exec('create table grow (id int primary key, pad text) with (autovacuum_enabled = false)');
    await db.exec('set plan_cache_mode = force_generic_plan');
    for (let i = 0; i < 7; i++) await db.prepared('grow', 'select pad from grow where id = $1', [i]);
    const cost = async () =>
      (await db.query<{ 'QUERY PLAN': string }>('explain execute grow(1)')).rows[0]['QUERY PLAN'].match(
        /cost=([\d.]+)/,
      )![1];
    const planned = await cost();
    await db.exec(`insert into grow select n, repeat('x', 100) from generate_series(1, 100000) as n`);
    now += 999;
    await db.prepared('grow', 'select pad from grow where id = $1', [1]);
    assert.equal(await cost(), planned, 'the cached plan, made for an empty table');
    now += 1;
    assert.deepEqual((await db.prepared('grow', 'select pad from grow where id = $1', [1])).rows, [
      { pad: 'x'.repeat(100) },
    ]);
    assert.notEqual(await cost(), planned, 'planned again, for 100 000 rows');
  } finally {
    await db.close();
    await admin.close();
    await drop();
  }
});
