/**
 * Job definitions: an id, a payload validator and a handler that calls one use case. Payloads
 * carry ids only, never personal data or blobs. Enqueue inside the caller's transaction so the
 * job exists exactly when the state change that needs it does.
 */
import type { Queryable } from './ports.ts';

export type JobKind = 'analysis.run';

export interface JobPayloads {
  'analysis.run': { verificationId: string };
}

export async function enqueueJob<K extends JobKind>(
  tx: Queryable,
  kind: K,
  payload: JobPayloads[K],
  opts: { dedupeKey?: string; runAt?: Date; maxAttempts?: number } = {},
): Promise<void> {
  await tx.query(
    `insert into jobs (kind, payload, dedupe_key, run_at, max_attempts) values ($1, $2, $3, coalesce($4, now()), $5)
     on conflict (dedupe_key) do nothing`,
    [kind, JSON.stringify(payload), opts.dedupeKey ?? null, opts.runAt ?? null, opts.maxAttempts ?? 5],
  );
}

export function parseJobPayload(kind: string, payload: unknown): { kind: JobKind; payload: JobPayloads[JobKind] } {
  const p = payload as Record<string, unknown> | null;
  if (
    kind === 'analysis.run' &&
    p &&
    typeof p.verificationId === 'string' &&
    /^[0-9a-f-]{36}$/.test(p.verificationId)
  ) {
    return { kind, payload: { verificationId: p.verificationId } };
  }
  throw new Error(`invalid job payload for ${kind}`);
}
