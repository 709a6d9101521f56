/**
 * Embedded PostgreSQL (PGlite, WASM). Quirks we rely on, read off @electric-sql/pglite 0.5:
 * it has ONE connection, and both query() and transaction() run behind the same exclusive
 * mutex, so a plain query issued while a transaction is open waits for it instead of running
 * inside it; transaction() rolls back when its callback throws.
 */
import { PGlite, types } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from '../../app/ports.ts';
import { autoPrepared, preparedRunner } from './pglite-prepared.mjs';
import { pgliteResult } from './pglite-result.ts';
import { PGLITE_START_PARAMS } from './pglite-settings.mjs';

// int8 ids and counts fit in a JS number for our ranges; pg's adapter does the same.
const parsers = { [types.INT8]: (v: string) => Number(v), [types.NUMERIC]: (v: string) => v };

type Rows = Promise<{ rows: unknown[]; affectedRows?: number }>;
function wrap(q: {
  query: (sql: string, params?: unknown[]) => Rows;
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
  const run = preparedRunner(pg);
  const queries = autoPrepared(pg, run);
  const q = wrap({ query: queries.query, exec: (sql) => pg.exec(sql) });
  return {
    kind: 'pglite',
    raw: pg,
    query: q.query,
    exec: q.exec,
    async prepared<T>(name: string, sql: string, params: unknown[]): Promise<QueryResult<T>> {
      return pgliteResult<T>(await run(name, sql, params));
    },
    transaction: (fn) =>
      pg.transaction(async (tx) => {
        // PGlite's tx refuses to be used once its transaction has ended; so does this one
        let open = true;
        const txQuery = (sql: string, params?: unknown[]) => {
          if (!open) throw new Error('Transaction is closed');
          return queries.inTransaction(tx, sql, params);
        };
        try {
          return await fn(wrap({ query: txQuery, exec: (sql) => tx.exec(sql) }));
        } finally {
          open = false;
        }
      }),
    close: () => pg.close(),
  };
}
