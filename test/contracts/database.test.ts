/**
 * The Db port on both adapters: migrations are applied once and are no-ops afterwards (restarts),
 * rowCount means the same thing, transactions roll back on error, and an embedded database
 * survives close and reopen.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listMigrations, migrate } from '../../src/storage/db/migrate.ts';
import { openPglite } from '../../src/storage/db/pglite.ts';
import { testDatabases } from '../helpers/databases.ts';

for (const backend of await testDatabases()) {
  describe(`Db port on ${backend.name}`, { skip: backend.skip }, () => {
    test('migrations apply once; rowCount counts selected and changed rows; failed transactions leave nothing', async () => {
      const { db, drop } = await backend.open();
      try {
        const first = await migrate(db);
        assert.deepEqual(first, listMigrations().map((m) => m.id));
        assert.deepEqual(await migrate(db), []);
        // Two migrators at once: each migration is still applied exactly once.
        await Promise.all([migrate(db), migrate(db)]);
        const applied = await db.query<{ id: number }>('select id from kyclive_migrations order by id');
        assert.deepEqual(applied.rows.map((r) => r.id), first);

        await db.query(`insert into clients (id, name, secret_hash, scopes) values ('c1', 'one', 'x', '{read_only}'), ('c2', 'two', 'x', '{read_only}')`);
        assert.equal((await db.query('select id from clients')).rowCount, 2);
        assert.equal((await db.query(`update clients set name = name where id in ('c1', 'c2')`)).rowCount, 2);
        assert.equal((await db.query(`delete from clients where id = 'none'`)).rowCount, 0);

        await assert.rejects(db.transaction(async (tx) => {
          await tx.query(`insert into clients (id, name, secret_hash, scopes) values ('c3', 'three', 'x', '{read_only}')`);
          await tx.query('select no_such_column from clients');
        }));
        assert.equal((await db.query(`select 1 from clients where id = 'c3'`)).rowCount, 0);
        // The connection is usable after the failed transaction (PGlite has only one).
        assert.equal((await db.query('select 1 as one')).rows[0].one, 1);
      } finally {
        await db.close();
        await drop();
      }
    });
  });
}

test('an embedded database keeps its data and migration state across restarts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kyclive-db-'));
  try {
    const a = await openPglite(dir);
    await migrate(a);
    await a.query(`insert into clients (id, name, secret_hash, scopes) values ('keep', 'k', 'x', '{read_only}')`);
    await a.close();
    const b = await openPglite(dir);
    assert.deepEqual(await migrate(b), []);
    assert.equal((await b.query(`select 1 from clients where id = 'keep'`)).rowCount, 1);
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
