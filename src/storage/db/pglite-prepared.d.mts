import type { PGlite } from '@electric-sql/pglite';

/** replanAfterMs: a statement older than this is parsed (and so planned) again; now: the clock, in ms. */
export interface PreparedRunner {
  (name: string, sql: string, params?: unknown[]): Promise<{ rows: unknown[]; affectedRows: number }>;
  /** Forgets a statement, here and in the database. */
  close(name: string): Promise<void>;
}
export function preparedRunner(pg: PGlite, opts?: { replanAfterMs?: number; now?: () => number }): PreparedRunner;
/** query() for statements outside a transaction, through named statements chosen by SQL text (bounded). */
export function autoPrepared(pg: PGlite, prepared: PreparedRunner, opts?: { maxStatements?: number }): (sql: string, params?: unknown[]) => Promise<{ rows: unknown[]; affectedRows?: number }>;
