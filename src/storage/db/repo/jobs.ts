/** The job queue's SQL: at-least-once, leased, retried (src/worker/job-runner.ts runs it). */

/** How far back a tenant's use of the workers counts against its next job. */
const FAIRNESS_WINDOW_MS = 10 * 60_000;
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
  job: { kind: string; payload: unknown; dedupeKey?: string; runAt?: Date; maxAttempts: number; tenant?: string },
): Promise<void> {
  await q.query(
    `insert into jobs (kind, payload, dedupe_key, run_at, max_attempts, tenant) values ($1, $2, $3, coalesce($4, now()), $5, $6)
     on conflict (dedupe_key) do nothing`,
    [
      job.kind,
      JSON.stringify(job.payload),
      job.dedupeKey ?? null,
      job.runAt ?? null,
      job.maxAttempts,
      job.tenant ?? null,
    ],
  );
}

/**
 * A due job (queued and due, or running with a lapsed lease), now leased to workerId. Fair between
 * tenants: a tenant's k-th due job counts as k plus the jobs it has had running lately (running now,
 * or claimed within FAIRNESS_WINDOW_MS), and the lowest count goes first (then the oldest). The
 * tenants' jobs are thus taken in turn, and one tenant's backlog cannot keep another's job waiting
 * behind it.
 */
export async function claimJob(q: Queryable, now: Date, leaseUntil: Date, workerId: string): Promise<JobRow | null> {
  const r = await q.query<JobRow>(
    `with busy as (
       select coalesce(tenant, '') as tenant, count(*)::int as n from jobs
        where attempts > 0 and updated_at >= $4 and not (state = 'running' and locked_until < $1)
        group by coalesce(tenant, '')),
     due as (
       select id, coalesce(tenant, '') as tenant, run_at,
              row_number() over (partition by coalesce(tenant, '') order by run_at, id) as k
         from jobs where (state = 'queued' and run_at <= $1) or (state = 'running' and locked_until < $1)),
     ranked as (
       select d.id, row_number() over (order by d.k + coalesce(b.n, 0), d.run_at, d.id) as rank
         from due d left join busy b on b.tenant = d.tenant),
     pick as (
       select j.id from jobs j join ranked r on r.id = j.id
        where (j.state = 'queued' and j.run_at <= $1) or (j.state = 'running' and j.locked_until < $1)
        order by r.rank limit 1 for update of j skip locked)
     update jobs set state = 'running', attempts = attempts + 1, locked_until = $2, locked_by = $3, updated_at = $1
      where id = (select id from pick)
     returning id, kind, payload, attempts, max_attempts`,
    [now, leaseUntil, workerId, new Date(now.getTime() - FAIRNESS_WINDOW_MS)],
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
