/**
 * Composition root: builds every adapter from the config and wires the use cases, the HTTP app,
 * the job runner and the webhook dispatcher. Nothing imports this module but entry points and
 * tests; it is the only place that knows which adapter implements which port.
 */
import { mkdirSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createSandboxAnalyzer } from '../app/analysis/sandbox-analyzer.ts';
import { analysisJob } from '../app/analysis/analysis-job.ts';
import { createClient } from '../app/clients/create-client.ts';
import type { AppDeps, Log } from '../app/deps.ts';
import { silentLog } from '../app/deps.ts';
import { expireVerifications } from '../app/verifications/expire-verifications.ts';
import { purgeCaptureMedia } from '../app/verifications/purge-capture-media.ts';
import type { Analyzer, BlobStore, Clock, Db } from '../app/ports.ts';
import { systemClock } from '../app/ports.ts';
import { webhookUrlPolicy } from '../app/webhooks/subscriptions.ts';
import { buildApp } from '../api/app.ts';
import type { Config } from '../config/config.ts';
import { createDiskBlobStore } from '../storage/blob/disk.ts';
import { createEncryptedBlobStore, parseKeyringFromConfig } from '../storage/blob/encrypted.ts';
import { createS3BlobStore, parseBlobStoreUrl } from '../storage/blob/s3.ts';
import { ownMaintenanceReason, runMaintenance } from '../storage/db/maintenance.ts';
import { migrate, ping } from '../storage/db/migrate.ts';
import { findClient } from '../storage/db/repo/clients.ts';
import { openPgliteThread } from '../storage/db/pglite-thread.ts';
import { openPostgres } from '../storage/db/postgres.ts';
import { createDispatcher, type Dispatcher } from '../webhooks/dispatcher.ts';
import { createJobRunner, type JobRunner } from '../worker/job-runner.ts';

/**
 * PGlite is one process's database: a second process opening the same folder would corrupt it.
 * A lock file holding the owner's pid refuses that with a clear message; a stale lock (its process
 * is gone) is taken over.
 */
function lockDataDir(dir: string): () => void {
  const lock = join(dir, 'kyclive.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (readFileSync(lock, 'utf8') === String(process.pid)) rmSync(lock);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(lock, 'utf8'));
      let alive = false;
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive)
        throw new Error(
          `the embedded database ${dir} is in use by another kyclive process (pid ${pid}): stop it first, or use another KYCLIVE_DATA_DIR`,
        );
      rmSync(lock, { force: true });
    }
  }
  throw new Error(`could not lock ${dir}`);
}

export async function openDatabase(config: Config, opts: { onIdleError?: (err: Error) => void } = {}): Promise<Db> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl, { onIdleError: opts.onIdleError });
  const dir = join(config.dataDir, 'db');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(dir);
  try {
    const db = await openPgliteThread(dir);
    return {
      ...db,
      close: async () => {
        try {
          await db.close();
        } finally {
          unlock();
        }
      },
    };
  } catch (e) {
    unlock();
    throw e;
  }
}

export function openBlobStore(config: Config): BlobStore {
  let inner: BlobStore;
  if (config.blobStore === 'disk') {
    inner = createDiskBlobStore(join(config.dataDir, 'blobs'));
  } else if (config.blobStore.startsWith('s3://')) {
    // Options written in the URL (?region=…&endpoint=…) win over the environment's defaults.
    const fromUrl = Object.fromEntries(
      Object.entries(parseBlobStoreUrl(config.blobStore)).filter(([, v]) => v !== undefined),
    );
    inner = createS3BlobStore({ ...config.s3, ...fromUrl } as Parameters<typeof createS3BlobStore>[0]);
  } else {
    throw new Error(`BLOB_STORE must be "disk" or s3://bucket[/prefix], got ${config.blobStore}`);
  }
  return createEncryptedBlobStore(
    inner,
    parseKeyringFromConfig(config.blobEncryptionKey.toString('base64'), config.blobEncryptionOldKeys),
  );
}

async function createAnalyzer(config: Config, clock: Clock): Promise<Analyzer> {
  if (config.worker.analyzer === 'sandbox') return createSandboxAnalyzer(clock);
  // Loaded only when asked for: the engine pulls in the models (about 330 MB per process).
  if (config.worker.engineProcesses > 0) {
    const { createEnginePool } = await import('../engine/pool.ts');
    return createEnginePool({ processes: config.worker.engineProcesses });
  }
  const { createEngine } = await import('../engine/index.ts');
  return createEngine();
}

/** Sessions the worker analyses at once: one per engine process (each session's halves share them). */
function analysisConcurrency(config: Config, given?: Analyzer): number {
  if (given) return given.concurrency ?? 1;
  return config.worker.analyzer === 'engine' ? Math.max(1, config.worker.engineProcesses) : 1;
}

/** Every job type the worker runs. */
const JOB_TYPES = [analysisJob];

/**
 * How often the embedded database checks what needs vacuuming. The check is one statistics query;
 * the work is done only past PostgreSQL's autovacuum thresholds, so a busy instance is vacuumed
 * while its tables are still small (each VACUUM holds PGlite's one connection while it runs).
 */
const DB_MAINTENANCE_MS = 10_000;
/**
 * The embedded database is held by this process alone (the data directory's lock), so every job
 * and webhook delivery is written here and wakes its loop: the idle loops need not poll it. They
 * sleep until the next retry or lease they know of, and look at least this often anyway. Polling
 * every 250 ms and 1 s was five statements a second on the database thread, idle or not, each
 * delaying the requests queued behind it by 2-8 ms under load.
 */
const EMBEDDED_IDLE_CAP_MS = 30_000;

export interface Runtime {
  config: Config;
  deps: AppDeps;
  app: FastifyInstance;
  jobs: JobRunner;
  webhooks: Dispatcher;
  /**
   * Starts the job worker (when configured, or forced for `kyclive worker`), the dispatcher and the
   * sweeper. With a worker, the analyzer is loaded first: a missing model or ffmpeg fails the start.
   */
  startBackground(opts?: { forceWorker?: boolean }): Promise<void>;
  /** Graceful: stop accepting, finish in-flight requests, jobs and deliveries, close the database. */
  close(): Promise<void>;
}

export async function createRuntime(
  config: Config,
  opts: { clock?: Clock; log?: Log; logger?: boolean | object; db?: Db; analyzer?: Analyzer } = {},
): Promise<Runtime> {
  const clock = opts.clock ?? systemClock;
  let log: Log | undefined; // deps.log, once deps exist
  const db =
    opts.db ??
    (await openDatabase(config, {
      onIdleError: (err) =>
        (log ?? silentLog).warn({ err }, 'the database closed an idle connection; the pool opens a new one'),
    }));
  await migrate(db);
  const blobs = openBlobStore(config);
  let jobs: JobRunner | undefined;
  let webhooks: Dispatcher | undefined;
  const deps: AppDeps = {
    db,
    blobs,
    clock,
    config,
    log: opts.log ?? silentLog,
    wake: { jobs: () => jobs?.wake(), webhooks: () => webhooks?.wake() },
  };
  // The analyzer is built where jobs run (the engine loads ~330 MB of models): not on API-only processes.
  let analyzer: Promise<Analyzer> | undefined = opts.analyzer ? Promise.resolve(opts.analyzer) : undefined;
  const getAnalyzer = () => (analyzer ??= createAnalyzer(config, clock));
  let draining = false;
  const app = await buildApp(deps, {
    logger: opts.logger,
    readiness: async () => {
      if (draining) return false;
      await ping(db);
      return true;
    },
  });
  if (opts.logger && !opts.log) deps.log = app.log;
  log = deps.log;
  // While draining, every response closes its connection: a keep-alive connection whose request was
  // in flight when SIGTERM arrived would otherwise stay open, and app.close() would wait for it.
  // Callback-style like the API's other hooks on every request (api/app.ts).
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });
  const idleCapMs = db.kind === 'pglite' ? EMBEDDED_IDLE_CAP_MS : undefined;
  jobs = createJobRunner({ deps, analyzer: getAnalyzer }, JOB_TYPES, {
    concurrency: analysisConcurrency(config, opts.analyzer),
    leaseSeconds: config.worker.leaseSeconds,
    pollIntervalMs: config.worker.pollIntervalMs,
    idleCapMs,
  });
  webhooks = createDispatcher(deps, {
    concurrency: config.webhooks.concurrency,
    receiverSlots: config.webhooks.receiverSlots,
    tenantSlots: config.webhooks.tenantSlots,
    timeoutMs: config.webhooks.timeoutMs,
    policy: webhookUrlPolicy(deps),
    idlePollMs: config.webhooks.pollIntervalMs,
    idleCapMs,
  });
  let sweeper: NodeJS.Timeout | undefined;
  let vacuum: NodeJS.Timeout | undefined;
  return {
    config,
    deps,
    app,
    jobs,
    webhooks,
    async startBackground(opts: { forceWorker?: boolean } = {}) {
      if (config.worker.inProcess || opts.forceWorker) {
        await getAnalyzer();
        jobs!.start();
      }
      webhooks!.start();
      const sweep = async () => {
        await expireVerifications(deps).catch((err) => deps.log.error({ err }, 'expiry sweep failed'));
        await purgeCaptureMedia(deps).catch((err) => deps.log.error({ err }, 'capture media purge failed'));
      };
      sweeper = setInterval(sweep, 60_000);
      sweeper.unref();
      void sweep();
      // PGlite has no autovacuum worker (maintenance.ts); PostgreSQL runs its own, unless it is off.
      const maintain = await ownMaintenanceReason(db).catch((err) => {
        deps.log.error({ err }, 'could not read the autovacuum setting');
        return null;
      });
      if (maintain === 'autovacuum off')
        deps.log.warn(
          { maintenanceIntervalSeconds: DB_MAINTENANCE_MS / 1000 },
          "autovacuum is off on this PostgreSQL server: kyclive applies autovacuum's rules to its own tables",
        );
      if (maintain) {
        // One pass at a time: a throttled VACUUM on PostgreSQL (postgres.ts) can outlast the
        // interval. A pass that held the database for 100 ms or more is logged: on PGlite every
        // request waits behind it (maintenance.ts), as PostgreSQL logs its slow autovacuum runs.
        let passing = false;
        const pass = async () => {
          if (passing) return;
          passing = true;
          const t0 = performance.now();
          try {
            const done = await runMaintenance(db, clock.now());
            const ms = Math.round(performance.now() - t0);
            if (done.length && ms >= 100)
              deps.log.info(
                { actions: done.map((m) => (m.table ? `${m.action} ${m.table}` : m.action)), ms },
                'database maintenance',
              );
          } finally {
            passing = false;
          }
        };
        vacuum = setInterval(() => {
          pass().catch((err) => deps.log.error({ err }, 'database maintenance failed'));
        }, DB_MAINTENANCE_MS);
        vacuum.unref();
      }
    },
    async close() {
      draining = true;
      if (sweeper) clearInterval(sweeper);
      if (vacuum) clearInterval(vacuum);
      await app.close();
      await jobs!.stop();
      await webhooks!.stop();
      if (analyzer) await (await analyzer.catch(() => null))?.close?.();
      await db.close();
    },
  };
}

/** Embedded mode's first start: a demo client whose credentials are kept in dataDir and printed at each start. */
export async function ensureDemoClient(
  config: Config,
  db: Db,
): Promise<{ clientId: string; clientSecret: string } | null> {
  if (!config.demoClient) return null;
  const file = join(config.dataDir, 'secrets', 'demo-client.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { clientId: string; clientSecret: string };
    if (await findClient(db, saved.clientId)) return saved;
  }
  const c = await createClient(db, { name: 'Demo client', scopes: ['read_only', 'read_write', 'admin', 'legal'] });
  mkdirSync(join(config.dataDir, 'secrets'), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify({ clientId: c.clientId, clientSecret: c.clientSecret }), { mode: 0o600 });
  return { clientId: c.clientId, clientSecret: c.clientSecret };
}
