/** The job queue's SQL: at-least-once, leased, retried (src/worker/job-runner.ts runs it). */
import type { Queryable } from '../../../app/ports.ts';

export interface JobRow {
  id: number;
  kind: string;
  payload: unknown;
  attempts: number;
  max_attempts: number;
}

/** Inside the caller's transaction, so the job exists exactly when the state change that needs it does. */
export async function insertJob(
  q: Queryable,
  job: { kind: string; payload: unknown; dedupeKey?: string; runAt?: Date; maxAttempts: number },
): Promise<void> {
  await q.query(
    `insert into jobs (kind, payload, dedupe_key, run_at, max_attempts) values ($1, $2, $3, coalesce($4, now()), $5)
     on conflict (dedupe_key) do nothing`,
    [job.kind, JSON.stringify(job.payload), job.dedupeKey ?? null, job.runAt ?? null, job.maxAttempts],
  );
}

/** The oldest due job (queued and due, or running with a lapsed lease), now leased to workerId. */
export async function claimJob(q: Queryable, now: Date, leaseUntil: Date, workerId: string): Promise<JobRow | null> {
  const r = await q.query<JobRow>(
    `update jobs set state = 'running', attempts = attempts + 1, locked_until = $2, locked_by = $3, updated_at = $1
      where id = (select id from jobs
                   where (state = 'queued' and run_at <= $1) or (state = 'running' and locked_until < $1)
                   order by run_at, id limit 1 for update skip locked)
     returning id, kind, payload, attempts, max_attempts`,
    [now, leaseUntil, workerId],
  );
  return r.rows[0] ?? null;
}

export async function renewJobLease(q: Queryable, id: number, workerId: string, leaseUntil: Date): Promise<void> {
  await q.query(`update jobs set locked_until = $2 where id = $1 and locked_by = $3 and state = 'running'`, [
    id,
    leaseUntil,
    workerId,
  ]);
}

export async function completeJob(q: Queryable, id: number, now: Date): Promise<void> {
  await q.query(
    `update jobs set state = 'done', locked_until = null, updated_at = $2, last_error = null where id = $1`,
    [id, now],
  );
}

/** A failed attempt: queued again at runAt, or failed for good. */
export async function failJob(
  q: Queryable,
  id: number,
  outcome: { final: boolean; runAt: Date; error: string; now: Date },
): Promise<void> {
  await q.query(
    `update jobs set state = $2, run_at = $3, locked_until = null, last_error = $4, updated_at = $5 where id = $1`,
    [id, outcome.final ? 'failed' : 'queued', outcome.runAt, outcome.error.slice(0, 500), outcome.now],
  );
}

/** When the earliest queued job or job lease falls due (null: nothing to wait for). */
export async function nextJobDue(q: Queryable): Promise<Date | null> {
  const r = await q.query<{ at: Date | null }>(
    `select least((select min(run_at) from jobs where state = 'queued'), (select min(locked_until) from jobs where state = 'running')) as at`,
  );
  return r.rows[0]?.at ?? null;
}

export async function countDueJobs(q: Queryable, now: Date): Promise<number> {
  const r = await q.query<{ n: number }>(
    `select count(*)::int as n from jobs where (state = 'queued' and run_at <= $1) or (state = 'running' and locked_until < $1)`,
    [now],
  );
  return r.rows[0].n;
}
