/**
 * Forward-only numbered migrations (migrations/NNNN_name.sql), the same text on PGlite and
 * PostgreSQL. Each runs in its own transaction whose first statement records its id, so two
 * processes migrating at once cannot both apply it (the second fails on the primary key and
 * rolls back); an advisory lock makes the second simply wait on PostgreSQL.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../app/ports.ts';

export const MIGRATIONS_DIR = new URL('../../../migrations/', import.meta.url).pathname;

export function listMigrations(dir = MIGRATIONS_DIR): { id: number; name: string; sql: string }[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      id: Number(f.slice(0, 4)),
      name: f.replace(/\.sql$/, ''),
      sql: readFileSync(join(dir, f), 'utf8'),
    }));
}

/** Readiness: the database answers. */
export async function ping(db: Db): Promise<void> {
  await db.query('select 1');
}

export async function migrate(db: Db, dir = MIGRATIONS_DIR): Promise<number[]> {
  await db.query(`create table if not exists kyclive_migrations (
    id integer primary key, name text not null, applied_at timestamptz not null default now())`);
  const applied: number[] = [];
  for (const m of listMigrations(dir)) {
    const done = await db.query('select 1 from kyclive_migrations where id = $1', [m.id]);
    if (done.rowCount > 0) continue;
    await db.transaction(async (tx) => {
      if (db.kind === 'postgres') await tx.query('select pg_advisory_xact_lock(727372)');
      const again = await tx.query('select 1 from kyclive_migrations where id = $1', [m.id]);
      if (again.rowCount > 0) return;
      await tx.query('insert into kyclive_migrations (id, name) values ($1, $2)', [m.id, m.name]);
      // Multi-statement text: run it as one simple query (no parameters).
      await tx.exec(m.sql);
      applied.push(m.id);
    });
  }
  return applied;
}
