/**
 * Autovacuum for the embedded database. PGlite is PostgreSQL in single-user mode: it has no
 * background workers, so autovacuum never runs (measured: 109 398 dead tuples left after 20
 * updates of a 10 000-row table, `last_autovacuum` null). Without it every update leaves its old
 * row version behind for good: tables and indexes grow without bound, the supersede probe of POST
 * kycliveness walks dead index entries, and the planner keeps its default row estimates forever.
 *
 * It also stands in for the checkpointer (CHECKPOINT_RULE below).
 *
 * This applies PostgreSQL's own autovacuum rule (vacuum when dead tuples exceed 50 + 20 % of the
 * live ones, or inserts since the last vacuum 1 000 + 20 %; analyze when modifications since the
 * last analyze exceed 50 + 10 %) from the server's background loop. PostgreSQL in production has
 * its real autovacuum and skips this, unless the server has autovacuum turned off
 * (ownMaintenanceReason): some operators turn it off for a bulk load and never on again, and
 * kyclive's tables then bloat as PGlite's would.
 */
import type { Db } from '../../app/ports.ts';

export interface TableActivity {
  table: string;
  live: number;
  dead: number;
  /** Rows inserted since the table's last VACUUM (n_ins_since_vacuum). */
  insertedSinceVacuum: number;
  modifiedSinceAnalyze: number;
  /** Last ANALYZE of the table, null if never. */
  analyzedAt: Date | null;
  /** Transactions since the table's rows were last frozen (age(relfrozenxid)). */
  xidAge: number;
}

export type TableMaintenance = { table: string; action: 'vacuum' | 'analyze' };
export type Maintenance = TableMaintenance | { table?: undefined; action: 'checkpoint' };

/**
 * PostgreSQL's checkpointer, which single-user mode lacks too: PGlite checkpoints only when it
 * closes. A crash after hours of traffic then replays every WAL record since the start (about 1.2
 * kB per POST kycliveness), and the WAL files of all that time stay on disk. PostgreSQL's defaults:
 * a checkpoint every 5 minutes (checkpoint_timeout), sooner when the WAL written since the last one
 * nears max_wal_size (1 GB, which PostgreSQL spreads over about two checkpoint cycles). Measured:
 * 22 ms after 10 000 initiations, 125 ms after 100 000, a pause of the database like a VACUUM.
 */
export const CHECKPOINT_RULE = { timeoutSeconds: 300, walBytes: 512 * 1024 * 1024 };

export function checkpointDue(since: { seconds: number; walBytes: number }, rule = CHECKPOINT_RULE): boolean {
  return since.seconds >= rule.timeoutSeconds || since.walBytes >= rule.walBytes;
}

/**
 * PostgreSQL's autovacuum defaults (autovacuum_vacuum_threshold/scale_factor, analyze_*,
 * autovacuum_freeze_max_age), plus a floor between two ANALYZEs of a table. VACUUM is cheap and
 * done whenever due (measured: 31 ms for a 40 000-row verifications table); ANALYZE samples up to
 * 30 000 rows and costs 3× that, while fresh statistics seldom change a plan: at sustained write
 * rates the 10 % rule would otherwise re-analyze a busy table on every pass.
 */
export const AUTOVACUUM_RULE = {
  vacuumBase: 50,
  vacuumScale: 0.2,
  vacuumInsertBase: 1000,
  vacuumInsertScale: 0.2,
  analyzeBase: 50,
  analyzeScale: 0.1,
  analyzeMinIntervalMs: 10 * 60_000,
  freezeMaxAge: 200_000_000,
};

export function maintenanceDue(
  tables: readonly TableActivity[],
  now: Date,
  rule = AUTOVACUUM_RULE,
): TableMaintenance[] {
  const due: TableMaintenance[] = [];
  for (const t of tables) {
    // The insert rule (PostgreSQL 13's autovacuum_vacuum_insert_*) keeps an append-only table's
    // visibility map and row count current.
    const inserts = t.insertedSinceVacuum > rule.vacuumInsertBase + rule.vacuumInsertScale * t.live;
    if (t.dead > rule.vacuumBase + rule.vacuumScale * t.live || inserts || t.xidAge > rule.freezeMaxAge)
      due.push({ table: t.table, action: 'vacuum' });
    const analyzeDue = t.modifiedSinceAnalyze > rule.analyzeBase + rule.analyzeScale * t.live;
    if (analyzeDue && (!t.analyzedAt || now.getTime() - t.analyzedAt.getTime() >= rule.analyzeMinIntervalMs))
      due.push({ table: t.table, action: 'analyze' });
  }
  return due;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Why kyclive must vacuum and analyze its own tables, or null when the database does it: PGlite
 * has no autovacuum worker, and a PostgreSQL server may have autovacuum turned off.
 */
export async function ownMaintenanceReason(db: Db): Promise<'embedded database' | 'autovacuum off' | null> {
  if (db.kind === 'pglite') return 'embedded database';
  const r = await db.query<{ autovacuum: string }>(`select current_setting('autovacuum') as autovacuum`);
  return r.rows[0].autovacuum === 'on' ? null : 'autovacuum off';
}

/** One pass: reads the statistics PGlite keeps (track_counts is on) and maintains what is due. */
export async function runMaintenance(db: Db, now: Date, checkpointRule = CHECKPOINT_RULE): Promise<Maintenance[]> {
  const r = await db.query<{
    table: string;
    live: number;
    dead: number;
    inserted: number;
    modified: number;
    analyzed_at: Date | null;
    xid_age: number;
  }>(
    `select s.relname as table, s.n_live_tup as live, s.n_dead_tup as dead, s.n_ins_since_vacuum as inserted, s.n_mod_since_analyze as modified,
            greatest(s.last_analyze, s.last_autoanalyze) as analyzed_at, age(c.relfrozenxid) as xid_age
       from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.schemaname = 'public'`,
  );
  const due = maintenanceDue(
    r.rows.map((x) => ({
      table: x.table,
      live: Number(x.live),
      dead: Number(x.dead),
      insertedSinceVacuum: Number(x.inserted),
      modifiedSinceAnalyze: Number(x.modified),
      analyzedAt: x.analyzed_at,
      xidAge: Number(x.xid_age),
    })),
    now,
  );
  // One statement at a time: each holds PGlite's only connection while it runs, and requests
  // waiting behind it should wait for one table, not for all of them. SKIP_LOCKED: several kyclive
  // processes on one PostgreSQL without autovacuum each run this pass, and one VACUUM of a table
  // is enough; the others skip it instead of queueing behind it.
  for (const m of due) await db.exec(`${m.action} (skip_locked) ${quoteIdent(m.table)}`);
  // PostgreSQL has a checkpointer of its own.
  if (db.kind !== 'pglite') return due;
  const c = (
    await db.query<{ seconds: number; wal: number }>(
      `select extract(epoch from now() - checkpoint_time)::float8 as seconds, pg_wal_lsn_diff(pg_current_wal_lsn(), checkpoint_lsn)::float8 as wal from pg_control_checkpoint()`,
    )
  ).rows[0];
  if (!checkpointDue({ seconds: c.seconds, walBytes: c.wal }, checkpointRule)) return due;
  await db.exec('checkpoint');
  return [...due, { action: 'checkpoint' }];
}
