import pg from 'pg';
import type { Db, Queryable, QueryResult } from '../../app/ports.ts';

// Same value shapes as the PGlite adapter: int8 → number, numeric → string.
pg.types.setTypeParser(20, (v) => Number(v));

function wrap(c: pg.Pool | pg.PoolClient): Queryable {
  return {
    async exec(sql: string) { await c.query(sql); },
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const r = await c.query(sql, params as unknown[]);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    },
  };
}

export async function openPostgres(url: string, opts: { max?: number } = {}): Promise<Db & { pool: pg.Pool }> {
  // Named statements (prepared()) are planned on every execution, with the tables' current sizes.
  // With PostgreSQL's default, a statement switches to a generic plan on its sixth execution and
  // keeps it until autovacuum's next ANALYZE of a table it reads, up to a minute later: a plan made
  // on the empty tables of a new database then scanned verifications once per request of POST
  // kycliveness (measured: 2 700 re-initiations/s with a 110 ms p99, against 4 400 and 23 ms).
  // Planning costs a fraction of a millisecond per batch here; in PGlite's WASM it costs about
  // 1 ms, so the embedded database parses its statements again every 2 s instead
  // (pglite-prepared.mjs).
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, options: '-c plan_cache_mode=force_custom_plan' });
  // Fail fast at boot rather than on the first request.
  const c = await pool.connect();
  c.release();
  const q = wrap(pool);
  return {
    kind: 'postgres',
    pool,
    query: q.query,
    exec: q.exec,
    async prepared<T>(name: string, sql: string, params: unknown[]): Promise<QueryResult<T>> {
      // node-postgres prepares a named statement on each pooled connection the first time it runs there.
      const r = await pool.query({ name, text: sql, values: params });
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn(wrap(client));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
