/**
 * The databases every repository-level suite runs on: PGlite always, PostgreSQL when one is
 * reachable (KYCLIVE_TEST_PG_URL, default the machine's postgres on 127.0.0.1:5432). In CI a
 * missing PostgreSQL is a failure, not a skip: the suites must have run on both.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../src/app/ports.ts';
import { openPgliteThread } from '../../src/storage/db/pglite-thread.ts';
import { openPostgres } from '../../src/storage/db/postgres.ts';

export const PG_ADMIN_URL = process.env.KYCLIVE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /** Skip reason, when this backend cannot run here. */
  skip?: string;
  open(): Promise<{ db: Db; url?: string; drop(): Promise<void> }>;
}

async function postgresReachable(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return undefined;
  } catch (e) {
    const why = `PostgreSQL not reachable at ${PG_ADMIN_URL} (${(e as Error).message})`;
    if (process.env.CI) throw new Error(`${why}: CI must run the suites on PostgreSQL too`);
    return why;
  }
}

export async function testDatabases(): Promise<TestDatabase[]> {
  const pgSkip = await postgresReachable();
  return [
    {
      name: 'pglite',
      async open() {
        // the adapter the embedded server opens (PGlite in its own thread)
        const db = await openPgliteThread();
        return { db, drop: async () => {} };
      },
    },
    {
      name: 'postgres',
      skip: pgSkip,
      async open() {
        const dbName = `kyclive_test_${randomBytes(6).toString('hex')}`;
        const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
        await admin.connect();
        await admin.query(`create database ${dbName}`);
        await admin.end();
        const url = PG_ADMIN_URL.replace(/\/[^/?]*(\?.*)?$/, `/${dbName}$1`).replace('$1', '');
        const db = await openPostgres(url);
        return {
          db,
          url,
          async drop() {
            const a = new pg.Client({ connectionString: PG_ADMIN_URL });
            await a.connect();
            await a.query(`drop database if exists ${dbName} with (force)`);
            await a.end();
          },
        };
      },
    },
  ];
}
