import type { PGlite } from '@electric-sql/pglite';

/** replanAfterMs: a statement older than this is parsed (and so planned) again; now: the clock, in ms. */
export function preparedRunner(pg: PGlite, opts?: { replanAfterMs?: number; now?: () => number }): (name: string, sql: string, params?: unknown[]) => Promise<{ rows: unknown[]; affectedRows: number }>;
