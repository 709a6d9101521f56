import pg from 'pg';
import type { Db, Queryable, QueryResult } from '../../app/ports.ts';

// Same value shapes as the PGlite adapter: int8 → number, numeric → string.
pg.types.setTypeParser(20, (v) => Number(v));

function wrap(c: pg.Pool | pg.PoolClient): Queryable {
  return {
    async exec(sql: string) {
      await c.query(sql);
    },
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const r = await c.query(sql, params as unknown[]);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    },
  };
}

export async function openPostgres(
  url: string,
  opts: { max?: number; onIdleError?: (err: Error) => void } = {},
): Promise<Db & { pool: pg.Pool }> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
  // An idle connection that the server closes (a restart, a failover, pg_terminate_backend, a
  // forced DROP DATABASE) is reported as the pool's 'error' event, and an event without a listener
  // crashes the process. The pool opens a new connection at its next use.
  pool.on('error', (err) => opts.onIdleError?.(err));
  // kyclive runs VACUUM and ANALYZE itself only when the server's autovacuum is off
  // (maintenance.ts), and then they run beside the requests as autovacuum's do: throttled the way
  // autovacuum throttles itself (autovacuum_vacuum_cost_delay's default, 2 ms), where a manual
  // VACUUM runs flat out. The SET is the first query queued on each new connection.
  pool.on('connect', (client) => {
    client.query('set vacuum_cost_delay = 2').catch(() => undefined);
  });
  // Fail fast at boot rather than on the first request.
  const c = await pool.connect();
  c.release();
  const q = wrap(pool);
  return {
    kind: 'postgres',
    pool,
    query: q.query,
    exec: q.exec,
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
