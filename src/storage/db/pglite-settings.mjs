// PostgreSQL settings for the embedded database, passed at start to both adapters (the worker
// thread and the in-process one). Plain JavaScript: the worker thread cannot load TypeScript.
//
// wal_init_zero=off: PostgreSQL writes zeros over every new 16 MB WAL segment before using it, so
// that the file system has allocated the space. PGlite has no WAL writer process to do that in
// the background: the statement that crosses into a new segment waits for the 16 MB, through
// Emscripten's file layer. At 1.5 kB of WAL per POST kycliveness, that happened every few thousand
// requests and stalled the database thread for 20-100 ms (bench:api, largest flush 105 ms with
// it, 17-22 ms without). Segments are then extended as they are written, as on the file systems
// (copy-on-write ones) for which PostgreSQL offers the setting.
//
// default_statistics_target=10: ANALYZE samples 300 rows per unit of the target, 30 000 at the
// default 100, and computes every column's statistics from them. PostgreSQL runs it in an
// autovacuum worker beside the queries; here the embedded autovacuum (maintenance.ts) runs it on the
// database's only thread, and every request waits behind it: 465 ms for a 40 000-row verifications
// table, against 40 ms with 3 000 rows (in bench:api, the first ANALYZE of verifications landed in
// a run and held ~150 requests for 140-180 ms). Ten most common values and a ten-bucket histogram
// per column are enough for kyclive's queries, which look rows up by key and walk indexes; the
// plan tests (test/initiate-plan.test.ts) check the shapes that matter.
import { PGlite } from '@electric-sql/pglite';

export const PGLITE_START_PARAMS = [
  ...PGlite.defaultStartParams,
  '-c',
  'wal_init_zero=off',
  '-c',
  'default_statistics_target=10',
];
