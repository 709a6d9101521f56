import type { PGlite, Transaction } from '@electric-sql/pglite';

/** replanAfterMs: a statement older than this is parsed (and so planned) again; now: the clock, in ms. */
export interface PreparedRunner {
  (name: string, sql: string, params?: unknown[]): Promise<{ rows: unknown[]; affectedRows: number }>;
  /** The same, called inside PGlite's transaction() (from its callback). */
  inTransaction(name: string, sql: string, params?: unknown[]): Promise<{ rows: unknown[]; affectedRows: number }>;
  /** Forgets a statement, here and in the database (outside a transaction). */
  close(name: string): Promise<void>;
}
/** A text parameter already encoded as UTF-8, sent as it is. */
export class TextBytes {
  constructor(bytes: Uint8Array);
  readonly bytes: Uint8Array;
}
export function preparedRunner(pg: PGlite, opts?: { replanAfterMs?: number; now?: () => number }): PreparedRunner;
type Rows = Promise<{ rows: unknown[]; affectedRows?: number }>;
/** query() through named statements chosen by SQL text (bounded), outside or inside a transaction. */
export function autoPrepared(
  pg: PGlite,
  prepared: PreparedRunner,
  opts?: { maxStatements?: number },
): {
  query(sql: string, params?: unknown[]): Rows;
  inTransaction(tx: Transaction, sql: string, params?: unknown[]): Rows;
};
