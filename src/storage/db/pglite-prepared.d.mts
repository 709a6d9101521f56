import type { PGlite } from '@electric-sql/pglite';

export function preparedRunner(pg: PGlite): (name: string, sql: string, params?: unknown[]) => Promise<{ rows: unknown[]; affectedRows: number }>;
