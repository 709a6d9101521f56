/**
 * What a job type is: its kind, the schema of its payload (ids only, never personal data or
 * blobs), its handler, its time limit and its retries, declared together in one place per type
 * (e.g. app/analysis/analysis-job.ts). src/worker/job-runner.ts runs them.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Backoff } from '../lib/backoff.ts';
import { insertJob } from '../storage/db/repo/jobs.ts';
import type { AppDeps } from './deps.ts';
import type { Analyzer, Queryable } from './ports.ts';

/** What a handler may use besides its payload. */
export interface JobContext {
  deps: AppDeps;
  /** The analyzer, built on first use (the engine loads its models). */
  analyzer(): Promise<Analyzer>;
}

export interface JobType<S extends TSchema> {
  kind: string;
  payload: S;
  /** Wall-clock limit of one attempt. */
  timeoutMs: number;
  maxAttempts: number;
  retry: Backoff;
  run(ctx: JobContext, payload: Static<S>, signal: AbortSignal): Promise<unknown>;
  /** Called once when the job has failed for the last time. */
  onGiveUp?(ctx: JobContext, payload: Static<S>): Promise<void>;
}

export interface AnyJobType {
  kind: string;
  timeoutMs: number;
  maxAttempts: number;
  retry: Backoff;
  /** The payload as read back from the queue, checked against the type's schema. */
  parse(payload: unknown): unknown;
  run(ctx: JobContext, payload: unknown, signal: AbortSignal): Promise<unknown>;
  onGiveUp?(ctx: JobContext, payload: unknown): Promise<void>;
}

export function defineJob<S extends TSchema>(t: JobType<S>): JobType<S> & AnyJobType {
  const check = TypeCompiler.Compile(t.payload);
  return {
    ...t,
    parse(payload: unknown) {
      if (!check.Check(payload)) throw new Error(`invalid ${t.kind} payload`);
      return payload;
    },
  } as JobType<S> & AnyJobType;
}

/** Enqueue inside the caller's transaction, so the job exists exactly when the state change that needs it does. */
export async function enqueueJob<S extends TSchema>(
  tx: Queryable,
  type: JobType<S>,
  payload: Static<S>,
  /** tenant: the client the job works for (fair scheduling between tenants). */
  opts: { dedupeKey?: string; runAt?: Date; tenant?: string } = {},
): Promise<void> {
  await insertJob(tx, { kind: type.kind, payload, maxAttempts: type.maxAttempts, ...opts });
}
