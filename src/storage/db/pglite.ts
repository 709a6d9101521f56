/**
 * Embedded PostgreSQL (PGlite, WASM) in this process, through its public API. The server opens it
 * in its own thread instead (pglite-thread.ts); this one is for embedding kyclive's storage in
 * another process's event loop, and for tests. Quirks we rely on, read off @electric-sql/pglite
 * 0.5: it has ONE connection, and both query() and transaction() run behind the same exclusive
 * mutex, so a plain query issued while a transaction is open waits for it instead of running
 * inside it; transaction() rolls back when its callback throws.
 */
import { PGlite, types } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from '../../app/ports.ts';
import { pgliteResult } from './pglite-result.ts';
import { PGLITE_START_PARAMS } from './pglite-settings.mjs';

// int8 ids and counts fit in a JS number for our ranges; pg's adapter does the same.
const parsers = { [types.INT8]: (v: string) => Number(v), [types.NUMERIC]: (v: string) => v };

function wrap(q: {
  query: (sql: string, params?: unknown[]) => Promise<{ rows: unknown[]; affectedRows?: number }>;
  exec: (sql: string) => Promise<unknown>;
}): Queryable {
  return {
    async exec(sql: string) {
      await q.exec(sql);
    },
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      return pgliteResult<T>(await q.query(sql, params));
    },
  };
}

export async function openPglite(
  dataDir?: string,
  opts: { loadDataDir?: Blob | File } = {},
): Promise<Db & { raw: PGlite }> {
  const pg = await PGlite.create({ dataDir, parsers, loadDataDir: opts.loadDataDir, startParams: PGLITE_START_PARAMS });
  const q = wrap(pg);
  return {
    kind: 'pglite',
    raw: pg,
    query: q.query,
    exec: q.exec,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    close: () => pg.close(),
  };
}
