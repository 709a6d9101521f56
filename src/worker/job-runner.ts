/**
 * Runs queued jobs with a lease: a claimed job is 'running' until locked_until, renewed by a
 * heartbeat while the handler works. If the process dies, the lease lapses and another runner
 * takes the job over (at-least-once); handlers are idempotent. Failures retry with capped
 * exponential backoff; after max_attempts the job is 'failed' and its onGiveUp hook runs.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../app/deps.ts';
import { parseJobPayload, type JobKind, type JobPayloads } from '../app/jobs.ts';
import { createIdleWaiter } from '../lib/idle-wait.ts';

export interface JobHandler<K extends JobKind> {
  run(payload: JobPayloads[K], signal: AbortSignal): Promise<unknown>;
  /** Called once when the job has failed for the last time. */
  onGiveUp?(payload: JobPayloads[K]): Promise<void>;
  /** Wall-clock limit of one attempt. */
  timeoutMs: number;
}

export type JobHandlers = { [K in JobKind]: JobHandler<K> };

interface JobRow {
  id: number;
  kind: string;
  payload: unknown;
  attempts: number;
  max_attempts: number;
}

export function retryDelayMs(attempts: number): number {
  return Math.min(5 * 60_000, 2_000 * 2 ** Math.max(0, attempts - 1));
}

export interface JobRunnerOptions {
  concurrency: number;
  leaseSeconds: number;
  /** How often an idle runner looks for jobs written by another process. */
  pollIntervalMs: number;
  /**
   * When no other process writes jobs (the embedded database: one process holds it), an idle
   * runner sleeps until the earliest job it knows becomes due (a retry, a lapsing lease), at most
   * this long; enqueues in this process wake it at once. Default: pollIntervalMs.
   */
  idleCapMs?: number;
}

export function createJobRunner(deps: AppDeps, handlers: JobHandlers, opts: JobRunnerOptions) {
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  let running = false;
  let active = 0;
  const controllers = new Set<AbortController>();
  let loopDone: Promise<void> = Promise.resolve();
  const waiter = createIdleWaiter({
    pollMs: opts.pollIntervalMs,
    capMs: opts.idleCapMs,
    now: () => deps.clock.now(),
    // the earliest queued job or job lease
    nextDue: async () =>
      (
        await deps.db.prepared<{ at: Date | null }>(
          'next_job_due',
          `select least((select min(run_at) from jobs where state = 'queued'), (select min(locked_until) from jobs where state = 'running')) as at`,
          [],
        )
      ).rows[0]?.at ?? null,
    onError: (err) => {
      if (running) deps.log.error({ err }, 'job due time failed');
    },
  });
  const wake = () => waiter.wake();

  async function claim(): Promise<JobRow | null> {
    const now = deps.clock.now();
    const r = await deps.db.query<JobRow>(
      `update jobs set state = 'running', attempts = attempts + 1, locked_until = $2, locked_by = $3, updated_at = $1
        where id = (select id from jobs
                     where (state = 'queued' and run_at <= $1) or (state = 'running' and locked_until < $1)
                     order by run_at, id limit 1 for update skip locked)
       returning id, kind, payload, attempts, max_attempts`,
      [now, new Date(now.getTime() + opts.leaseSeconds * 1000), workerId],
    );
    return r.rows[0] ?? null;
  }

  async function execute(job: JobRow): Promise<void> {
    const ac = new AbortController();
    controllers.add(ac);
    const heartbeat = setInterval(
      () => {
        const now = deps.clock.now();
        deps.db
          .query(`update jobs set locked_until = $2 where id = $1 and locked_by = $3 and state = 'running'`, [
            job.id,
            new Date(now.getTime() + opts.leaseSeconds * 1000),
            workerId,
          ])
          .catch((err) => deps.log.warn({ err, jobId: job.id }, 'job heartbeat failed'));
      },
      Math.max(1000, (opts.leaseSeconds * 1000) / 3),
    );
    heartbeat.unref();
    try {
      const { kind, payload } = parseJobPayload(job.kind, job.payload);
      const handler = handlers[kind] as JobHandler<JobKind>;
      const timer = setTimeout(() => ac.abort(new Error('job timed out')), handler.timeoutMs);
      timer.unref();
      try {
        await Promise.race([
          handler.run(payload, ac.signal),
          new Promise((_, reject) =>
            ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true }),
          ),
        ]);
      } finally {
        clearTimeout(timer);
      }
      await deps.db.query(
        `update jobs set state = 'done', locked_until = null, updated_at = $2, last_error = null where id = $1`,
        [job.id, deps.clock.now()],
      );
      deps.log.info({ jobId: job.id, kind: job.kind, attempts: job.attempts }, 'job done');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const final = job.attempts >= job.max_attempts;
      const now = deps.clock.now();
      await deps.db.query(
        `update jobs set state = $2, run_at = $3, locked_until = null, last_error = $4, updated_at = $5 where id = $1`,
        [
          job.id,
          final ? 'failed' : 'queued',
          new Date(now.getTime() + retryDelayMs(job.attempts)),
          message.slice(0, 500),
          now,
        ],
      );
      deps.log.error({ err, jobId: job.id, kind: job.kind, attempts: job.attempts, final }, 'job failed');
      if (final) {
        try {
          const { kind, payload } = parseJobPayload(job.kind, job.payload);
          await (handlers[kind] as JobHandler<JobKind>).onGiveUp?.(payload);
        } catch (e) {
          deps.log.error({ err: e, jobId: job.id }, 'job give-up hook failed');
        }
      }
    } finally {
      clearInterval(heartbeat);
      controllers.delete(ac);
    }
  }

  async function loop(): Promise<void> {
    while (running) {
      let job: JobRow | null = null;
      let drained = false;
      if (active < opts.concurrency) {
        waiter.clear();
        try {
          job = await claim();
          drained = !job;
        } catch (err) {
          if (running) deps.log.error({ err }, 'job claim failed');
        }
        if (job) {
          active++;
          execute(job).finally(() => {
            active--;
            wake();
          });
          continue;
        }
      }
      if (waiter.woken && active < opts.concurrency) continue;
      // Nothing due now (drained): until something is. At full concurrency, a job's end wakes the loop.
      await waiter.sleep(drained);
    }
  }

  return {
    wake,
    start() {
      if (!running) {
        running = true;
        loopDone = loop();
      }
    },
    /** Stops claiming and waits for running jobs (graceful shutdown); `abortAfterMs` then aborts them. */
    async stop(abortAfterMs = 30_000): Promise<void> {
      running = false;
      wake();
      await loopDone;
      const t = setTimeout(() => {
        for (const c of controllers) c.abort(new Error('shutting down'));
      }, abortAfterMs);
      t.unref();
      while (active > 0) await new Promise((r) => setTimeout(r, 20));
      clearTimeout(t);
    },
    /** Test hook: resolves when this runner has nothing to do now (jobs leased by others are not waited for). */
    async idle(): Promise<void> {
      for (;;) {
        const r = await deps.db.query<{ n: number }>(
          `select count(*)::int as n from jobs where (state = 'queued' and run_at <= $1) or (state = 'running' and locked_until < $1)`,
          [deps.clock.now()],
        );
        if (r.rows[0].n === 0 && active === 0) return;
        wake();
        await new Promise((res) => setTimeout(res, 10));
      }
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
