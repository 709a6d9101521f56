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
import { PGlite } from '@electric-sql/pglite';

export const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'wal_init_zero=off'];
