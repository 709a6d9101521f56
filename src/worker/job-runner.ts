/**
 * Runs queued jobs with a lease: a claimed job is 'running' until locked_until, renewed by a
 * heartbeat while the handler works. If the process dies, the lease lapses and another runner
 * takes the job over (at-least-once); handlers are idempotent. Failures retry with capped
 * exponential backoff; after max_attempts the job is 'failed' and its onGiveUp hook runs.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AppDeps } from '../app/deps.ts';
import type { AnyJobType, JobContext } from '../app/jobs.ts';
import { backoffDelayMs } from '../lib/backoff.ts';
import { createIdleWaiter } from '../lib/idle-wait.ts';
import {
  claimJob,
  completeJob,
  countDueJobs,
  failJob,
  type JobRow,
  nextJobDue,
  renewJobLease,
} from '../storage/db/repo/jobs.ts';

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

export function createJobRunner(ctx: JobContext, types: readonly AnyJobType[], opts: JobRunnerOptions) {
  const deps: AppDeps = ctx.deps;
  const byKind = new Map(types.map((t) => [t.kind, t]));
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  let running = false;
  let active = 0;
  const controllers = new Set<AbortController>();
  let loopDone: Promise<void> = Promise.resolve();
  const waiter = createIdleWaiter({
    pollMs: opts.pollIntervalMs,
    capMs: opts.idleCapMs,
    now: () => deps.clock.now(),
    nextDue: () => nextJobDue(deps.db),
    onError: (err) => {
      if (running) deps.log.error({ err }, 'job due time failed');
    },
  });
  const wake = () => waiter.wake();
  const leaseUntil = () => new Date(deps.clock.now().getTime() + opts.leaseSeconds * 1000);

  async function claim(): Promise<JobRow | null> {
    return claimJob(deps.db, deps.clock.now(), leaseUntil(), workerId);
  }

  async function execute(job: JobRow): Promise<void> {
    const ac = new AbortController();
    controllers.add(ac);
    const heartbeat = setInterval(
      () => {
        renewJobLease(deps.db, job.id, workerId, leaseUntil()).catch((err) =>
          deps.log.warn({ err, jobId: job.id }, 'job heartbeat failed'),
        );
      },
      Math.max(1000, (opts.leaseSeconds * 1000) / 3),
    );
    heartbeat.unref();
    const type = byKind.get(job.kind);
    try {
      if (!type) throw new Error(`unknown job kind ${job.kind}`);
      const payload = type.parse(job.payload);
      const timer = setTimeout(() => ac.abort(new Error('job timed out')), type.timeoutMs);
      timer.unref();
      try {
        await Promise.race([
          type.run(ctx, payload, ac.signal),
          new Promise((_, reject) =>
            ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true }),
          ),
        ]);
      } finally {
        clearTimeout(timer);
      }
      await completeJob(deps.db, job.id, deps.clock.now());
      deps.log.info({ jobId: job.id, kind: job.kind, attempts: job.attempts }, 'job done');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const final = job.attempts >= (type?.maxAttempts ?? job.max_attempts);
      const now = deps.clock.now();
      const delay = type ? backoffDelayMs(job.attempts, type.retry) : 60_000;
      await failJob(deps.db, job.id, { final, runAt: new Date(now.getTime() + delay), error: message, now });
      deps.log.error({ err, jobId: job.id, kind: job.kind, attempts: job.attempts, final }, 'job failed');
      if (final && type?.onGiveUp) {
        try {
          await type.onGiveUp(ctx, type.parse(job.payload));
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
        if ((await countDueJobs(deps.db, deps.clock.now())) === 0 && active === 0) return;
        wake();
        await new Promise((res) => setTimeout(res, 10));
      }
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
