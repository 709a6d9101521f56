/**
 * The Db port on both adapters: migrations are applied once and are no-ops afterwards (restarts),
 * rowCount means the same thing, transactions roll back on error, and an embedded database
 * survives close and reopen. Also the embedded server's adapter, PGlite in a worker thread.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listMigrations, migrate, MIGRATIONS_DIR } from '../../src/storage/db/migrate.ts';
import { openPglite } from '../../src/storage/db/pglite.ts';
import { openPgliteThread } from '../../src/storage/db/pglite-thread.ts';
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

        // Schema: a verification's user belongs to the verification's client (a composite foreign key,
        // migration 0008), whichever side would break it.
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
        // another client's user, under this client: the pair does not exist
        await assert.rejects(db.query(`update verifications set user_id = $1`, [other]), brokenKey);
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
  });
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
