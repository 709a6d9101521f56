import type { QueryResult } from '../../app/ports.ts';

/**
 * A PGlite result as the Db port returns it, for both PGlite adapters (pglite.ts, pglite-thread.ts):
 * PGlite reports affectedRows = 0 for a SELECT, where pg's rowCount is the number of rows returned.
 */
export function pgliteResult<T>(r: { rows?: unknown[]; affectedRows?: number }): QueryResult<T> {
  const rows = (r.rows ?? []) as T[];
  return { rows, rowCount: Math.max(r.affectedRows ?? 0, rows.length) };
}
