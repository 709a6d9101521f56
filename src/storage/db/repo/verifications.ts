import type { Queryable } from '../../../app/ports.ts';
import type { VerificationState } from '../../../domain/verification/states.ts';
import { SUPERSEDABLE_STATES } from '../../../domain/verification/states.ts';
import type { NewVerification, VerificationPatch } from '../../../domain/verification/transitions.ts';
import type { Challenge, CaptureMetadata, VerificationMethod } from '../../../app/ports.ts';

export interface Verification {
  id: string;
  clientId: string;
  userId: number;
  method: VerificationMethod;
  state: VerificationState;
  redirectUrl: string;
  challenges: Challenge[];
  documentType: string | null;
  documentCountry: string | null;
  captureMetadata: CaptureMetadata;
  score: number | null;
  comment: string | null;
  reasons: number[] | null;
  returnReason: string | null;
  errorType: string | null;
  analysis: Record<string, unknown> | null;
  simulated: boolean;
  supersededBy: string | null;
  /** 'pending' while a human decides (review case), 'decided' after. */
  review: 'pending' | 'decided' | null;
  expiresAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  processedAt: Date | null;
  updatedAt: Date;
}

const SELECT = `select id, client_id, user_id, method, state, redirect_url, challenges, document_type, document_country,
  capture_metadata, score, comment, reasons, return_reason, error_type, analysis, simulated, superseded_by, review_state,
  expires_at, created_at, started_at, completed_at, processed_at, updated_at from verifications`;

// biome-ignore lint/suspicious/noExplicitAny: a database row, mapped field by field
function toVerification(r: Record<string, any>): Verification {
  return {
    id: r.id,
    clientId: r.client_id,
    userId: r.user_id,
    method: r.method,
    state: r.state,
    redirectUrl: r.redirect_url,
    challenges: r.challenges ?? [],
    documentType: r.document_type,
    documentCountry: r.document_country,
    captureMetadata: r.capture_metadata ?? {},
    score: r.score,
    comment: r.comment,
    reasons: r.reasons,
    returnReason: r.return_reason,
    errorType: r.error_type,
    analysis: r.analysis,
    simulated: r.simulated,
    supersededBy: r.superseded_by,
    review: r.review_state,
    expiresAt: r.expires_at,
    createdAt: r.created_at,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    processedAt: r.processed_at,
    updatedAt: r.updated_at,
  };
}

/** The user's latest verification, by seq (insertion order: created_at can tie within a millisecond). */
export async function findLatestForUser(q: Queryable, clientId: string, userId: number): Promise<Verification | null> {
  const r = await q.query(`${SELECT} where user_id = $2 and client_id = $1 order by seq desc limit 1`, [
    clientId,
    userId,
  ]);
  return r.rows[0] ? toVerification(r.rows[0]) : null;
}

export async function findById(q: Queryable, id: string, forUpdate = false): Promise<Verification | null> {
  const r = await q.query(`${SELECT} where id = $1${forUpdate ? ' for update' : ''}`, [id]);
  return r.rows[0] ? toVerification(r.rows[0]) : null;
}

export async function findByClientAndId(
  q: Queryable,
  clientId: string,
  id: string,
  forUpdate = false,
): Promise<Verification | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
  const r = await q.query(`${SELECT} where id = $1 and client_id = $2${forUpdate ? ' for update' : ''}`, [
    id,
    clientId,
  ]);
  return r.rows[0] ? toVerification(r.rows[0]) : null;
}

export async function findByTokenHash(
  q: Queryable,
  tokenHash: string,
  forUpdate = false,
): Promise<Verification | null> {
  const r = await q.query(`${SELECT} where capture_token_hash = $1${forUpdate ? ' for update' : ''}`, [tokenHash]);
  return r.rows[0] ? toVerification(r.rows[0]) : null;
}

const PATCH_COLUMNS: Record<keyof VerificationPatch, string> = {
  state: 'state',
  startedAt: 'started_at',
  completedAt: 'completed_at',
  processedAt: 'processed_at',
  returnReason: 'return_reason',
  errorType: 'error_type',
  score: 'score',
  reasons: 'reasons',
  comment: 'comment',
  supersededBy: 'superseded_by',
  review: 'review_state',
};

export async function applyPatch(
  q: Queryable,
  id: string,
  patch: VerificationPatch & {
    analysis?: unknown;
    captureMetadata?: unknown;
    documentType?: string;
    documentCountry?: string;
    simulated?: boolean;
  },
  now: Date,
): Promise<void> {
  const sets: string[] = [];
  const vals: unknown[] = [id];
  const push = (col: string, v: unknown) => {
    vals.push(v);
    sets.push(`${col} = $${vals.length}`);
  };
  for (const [k, col] of Object.entries(PATCH_COLUMNS)) {
    const v = (patch as Record<string, unknown>)[k];
    if (v !== undefined) push(col, k === 'reasons' ? JSON.stringify(v) : v);
  }
  if (patch.analysis !== undefined) push('analysis', JSON.stringify(patch.analysis));
  if (patch.captureMetadata !== undefined) push('capture_metadata', JSON.stringify(patch.captureMetadata));
  if (patch.documentType !== undefined) push('document_type', patch.documentType);
  if (patch.documentCountry !== undefined) push('document_country', patch.documentCountry);
  if (patch.simulated !== undefined) push('simulated', patch.simulated);
  if (sets.length === 0) return;
  push('updated_at', now);
  await q.query(`update verifications set ${sets.join(', ')} where id = $1`, vals);
}

export async function insertVerification(
  q: Queryable,
  v: NewVerification & { clientId: string; userId: number; tokenHash: string },
): Promise<void> {
  await q.query(
    `insert into verifications (id, client_id, user_id, method, state, capture_token_hash, redirect_url, challenges, expires_at, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
    [
      v.id,
      v.clientId,
      v.userId,
      v.method,
      v.state,
      v.tokenHash,
      v.redirectUrl,
      JSON.stringify(v.challenges),
      v.expiresAt,
      v.createdAt,
    ],
  );
}

/**
 * The user's verifications that a newer one may supersede (the domain's SUPERSEDABLE_STATES, as
 * stored: an initiated one past its lifetime is among them, and the supersede transition writes
 * down its expiry instead), locked until the caller's transaction ends.
 */
export async function lockLive(q: Queryable, clientId: string, userId: number): Promise<Verification[]> {
  const r = await q.query(
    `${SELECT} where client_id = $1 and user_id = $2 and state = any($3::text[]) order by seq for update`,
    [clientId, userId, [...SUPERSEDABLE_STATES]],
  );
  return r.rows.map(toVerification);
}

/**
 * Initiated verifications past their lifetime at `now`: what the expire transition changes, locked
 * (rows another process holds are skipped; the next sweep takes them).
 */
export async function lockExpiryDue(q: Queryable, now: Date, limit: number): Promise<Verification[]> {
  const r = await q.query(
    `${SELECT} where state = 'initiated' and expires_at <= $1 order by expires_at limit $2 for update skip locked`,
    [now, limit],
  );
  return r.rows.map(toVerification);
}
