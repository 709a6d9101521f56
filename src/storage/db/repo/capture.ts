/** What the capture app stores: media per step, resumable uploads and their chunks, handoff links. */
import type { Queryable } from '../../../app/ports.ts';

export interface MediaRecord {
  step: 'document_front' | 'document_back' | 'document_tilt' | 'face';
  blobKey: string;
  contentType: string;
  sha256: string;
}

export async function listMediaSteps(q: Queryable, verificationId: string): Promise<string[]> {
  const r = await q.query<{ step: string }>('select step from capture_media where verification_id = $1 order by step', [
    verificationId,
  ]);
  return r.rows.map((x) => x.step);
}

export async function listMedia(q: Queryable, verificationId: string): Promise<MediaRecord[]> {
  const r = await q.query<{ step: MediaRecord['step']; blob_key: string; content_type: string; sha256: string }>(
    'select step, blob_key, content_type, sha256 from capture_media where verification_id = $1 order by step',
    [verificationId],
  );
  return r.rows.map((x) => ({ step: x.step, blobKey: x.blob_key, contentType: x.content_type, sha256: x.sha256 }));
}

/** Stores the medium of a step, replacing an earlier one; returns the replaced medium's blob key. */
export async function upsertMedia(
  q: Queryable,
  m: {
    id: string;
    verificationId: string;
    step: string;
    blobKey: string;
    contentType: string;
    bytes: number;
    sha256: string;
    at: Date;
  },
): Promise<string | undefined> {
  const old = await q.query<{ blob_key: string }>(
    'select blob_key from capture_media where verification_id = $1 and step = $2',
    [m.verificationId, m.step],
  );
  await q.query(
    `insert into capture_media (id, verification_id, step, blob_key, content_type, bytes, sha256, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (verification_id, step) do update set blob_key = excluded.blob_key, content_type = excluded.content_type,
       bytes = excluded.bytes, sha256 = excluded.sha256, created_at = excluded.created_at`,
    [m.id, m.verificationId, m.step, m.blobKey, m.contentType, m.bytes, m.sha256, m.at],
  );
  return old.rows[0]?.blob_key;
}

/** Raw media of verifications in `states` that ended before `before`, oldest first. */
export async function listEndedMedia(
  q: Queryable,
  states: readonly string[],
  before: Date,
  limit: number,
): Promise<{ id: string; blobKey: string }[]> {
  const r = await q.query<{ id: string; blob_key: string }>(
    `select m.id, m.blob_key from capture_media m join verifications v on v.id = m.verification_id
      where v.state = any($1::text[]) and v.updated_at < $2
      order by v.updated_at limit $3`,
    [[...states], before, limit],
  );
  return r.rows.map((x) => ({ id: x.id, blobKey: x.blob_key }));
}

export async function deleteMedia(q: Queryable, ids: string[]): Promise<void> {
  if (ids.length) await q.query('delete from capture_media where id = any($1::uuid[])', [ids]);
}

// ---- resumable uploads

export interface UploadRecord {
  id: string;
  verificationId: string;
  step: string;
  contentType: string;
  totalBytes: number;
  receivedBytes: number;
  completedAt: Date | null;
}

interface UploadRow {
  id: string;
  verification_id: string;
  step: string;
  content_type: string;
  total_bytes: string | number;
  received_bytes: string | number;
  completed_at: Date | null;
}

const toUpload = (r: UploadRow): UploadRecord => ({
  id: r.id,
  verificationId: r.verification_id,
  step: r.step,
  contentType: r.content_type,
  totalBytes: Number(r.total_bytes),
  receivedBytes: Number(r.received_bytes),
  completedAt: r.completed_at,
});

export async function countUploads(q: Queryable, verificationId: string): Promise<number> {
  const r = await q.query<{ n: number }>('select count(*)::int as n from capture_uploads where verification_id = $1', [
    verificationId,
  ]);
  return r.rows[0].n;
}

export async function insertUpload(
  q: Queryable,
  u: { id: string; verificationId: string; step: string; contentType: string; totalBytes: number; at: Date },
): Promise<UploadRecord> {
  const r = await q.query<UploadRow>(
    `insert into capture_uploads (id, verification_id, step, content_type, total_bytes, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $6) returning *`,
    [u.id, u.verificationId, u.step, u.contentType, u.totalBytes, u.at],
  );
  return toUpload(r.rows[0]);
}

export async function findUpload(
  q: Queryable,
  verificationId: string,
  uploadId: string,
  forUpdate = false,
): Promise<UploadRecord | null> {
  const r = await q.query<UploadRow>(
    `select * from capture_uploads where id = $1 and verification_id = $2${forUpdate ? ' for update' : ''}`,
    [uploadId, verificationId],
  );
  return r.rows[0] ? toUpload(r.rows[0]) : null;
}

/** Records a stored chunk and moves the upload's offset past it. */
export async function appendUploadChunk(
  q: Queryable,
  c: { uploadId: string; offset: number; bytes: number; blobKey: string; at: Date },
): Promise<void> {
  await q.query(
    'insert into capture_upload_chunks (upload_id, start_offset, bytes, blob_key) values ($1, $2, $3, $4)',
    [c.uploadId, c.offset, c.bytes, c.blobKey],
  );
  await q.query('update capture_uploads set received_bytes = $2, updated_at = $3 where id = $1', [
    c.uploadId,
    c.offset + c.bytes,
    c.at,
  ]);
}

export async function listUploadChunks(q: Queryable, uploadId: string): Promise<string[]> {
  const r = await q.query<{ blob_key: string }>(
    'select blob_key from capture_upload_chunks where upload_id = $1 order by start_offset',
    [uploadId],
  );
  return r.rows.map((x) => x.blob_key);
}

/** The upload became a medium: complete, and its chunk rows go (their blobs are the caller's to delete). */
export async function completeUpload(q: Queryable, uploadId: string, at: Date): Promise<void> {
  await q.query('update capture_uploads set completed_at = $2, updated_at = $2 where id = $1', [uploadId, at]);
  await q.query('delete from capture_upload_chunks where upload_id = $1', [uploadId]);
}

/** Chunks of the verification's unfinished uploads. */
export async function listPendingChunks(q: Queryable, verificationId: string): Promise<string[]> {
  const r = await q.query<{ blob_key: string }>(
    `select c.blob_key from capture_upload_chunks c join capture_uploads u on u.id = c.upload_id
      where u.verification_id = $1 and u.completed_at is null`,
    [verificationId],
  );
  return r.rows.map((x) => x.blob_key);
}

export async function deletePendingChunks(q: Queryable, verificationId: string): Promise<void> {
  await q.query(
    'delete from capture_upload_chunks where upload_id in (select id from capture_uploads where verification_id = $1 and completed_at is null)',
    [verificationId],
  );
}

/** Chunks of unfinished uploads whose verification is in one of `states` (ended). */
export async function listOrphanChunks(
  q: Queryable,
  states: readonly string[],
  limit: number,
): Promise<{ uploadId: string; offset: number; blobKey: string }[]> {
  const r = await q.query<{ upload_id: string; start_offset: number; blob_key: string }>(
    `select c.upload_id, c.start_offset, c.blob_key from capture_upload_chunks c
       join capture_uploads u on u.id = c.upload_id join verifications v on v.id = u.verification_id
      where u.completed_at is null and v.state = any($1::text[]) limit $2`,
    [[...states], limit],
  );
  return r.rows.map((x) => ({ uploadId: x.upload_id, offset: x.start_offset, blobKey: x.blob_key }));
}

export async function deleteChunks(q: Queryable, chunks: { uploadId: string; offset: number }[]): Promise<void> {
  if (!chunks.length) return;
  await q.query(
    `delete from capture_upload_chunks c using unnest($1::uuid[], $2::bigint[]) as d(upload_id, start_offset)
      where c.upload_id = d.upload_id and c.start_offset = d.start_offset`,
    [chunks.map((c) => c.uploadId), chunks.map((c) => c.offset)],
  );
}

// ---- desktop → phone handoff links

export async function countHandoffs(q: Queryable, verificationId: string): Promise<number> {
  const r = await q.query<{ n: number }>('select count(*)::int as n from capture_handoffs where verification_id = $1', [
    verificationId,
  ]);
  return r.rows[0].n;
}

export async function insertHandoff(
  q: Queryable,
  h: { id: string; verificationId: string; linkTokenHash: string; expiresAt: Date; at: Date },
): Promise<void> {
  await q.query(
    'insert into capture_handoffs (id, verification_id, link_token_hash, expires_at, created_at) values ($1, $2, $3, $4, $5)',
    [h.id, h.verificationId, h.linkTokenHash, h.expiresAt, h.at],
  );
}

export async function lockHandoffByLink(
  q: Queryable,
  linkTokenHash: string,
): Promise<{ id: string; verificationId: string; expiresAt: Date; claimedAt: Date | null } | null> {
  const r = await q.query<{ id: string; verification_id: string; expires_at: Date; claimed_at: Date | null }>(
    'select id, verification_id, expires_at, claimed_at from capture_handoffs where link_token_hash = $1 for update',
    [linkTokenHash],
  );
  const h = r.rows[0];
  return h
    ? { id: h.id, verificationId: h.verification_id, expiresAt: new Date(h.expires_at), claimedAt: h.claimed_at }
    : null;
}

export async function claimHandoff(q: Queryable, id: string, phoneTokenHash: string, at: Date): Promise<void> {
  await q.query('update capture_handoffs set claimed_at = $2, phone_token_hash = $3 where id = $1', [
    id,
    at,
    phoneTokenHash,
  ]);
}

export async function findVerificationIdByPhoneToken(q: Queryable, phoneTokenHash: string): Promise<string | null> {
  const r = await q.query<{ verification_id: string }>(
    'select verification_id from capture_handoffs where phone_token_hash = $1',
    [phoneTokenHash],
  );
  return r.rows[0]?.verification_id ?? null;
}

/** Whether a phone claimed a link of this verification, or a link is still open. */
export async function handoffStatus(
  q: Queryable,
  verificationId: string,
  now: Date,
): Promise<'claimed' | 'pending' | 'none'> {
  const r = await q.query<{ claimed: boolean | null; pending: boolean | null }>(
    `select bool_or(claimed_at is not null) as claimed, bool_or(claimed_at is null and expires_at > $2) as pending
       from capture_handoffs where verification_id = $1`,
    [verificationId, now],
  );
  return r.rows[0]?.claimed ? 'claimed' : r.rows[0]?.pending ? 'pending' : 'none';
}

/**
 * Claims the upload's offset for one writer until `leaseUntil`: only when the upload is open, holds
 * exactly `offset` bytes, and no other writer's lease is running. Null when not claimed.
 */
export async function claimUploadWriter(
  q: Queryable,
  uploadId: string,
  offset: number,
  now: Date,
  leaseUntil: Date,
): Promise<UploadRecord | null> {
  const r = await q.query<UploadRow>(
    `update capture_uploads set writing_until = $4
      where id = $1 and completed_at is null and received_bytes = $2 and (writing_until is null or writing_until < $3)
     returning *`,
    [uploadId, offset, now, leaseUntil],
  );
  return r.rows[0] ? toUpload(r.rows[0]) : null;
}

/** Ends a writer's lease (its chunk was stored, or refused). */
export async function releaseUploadWriter(q: Queryable, uploadId: string, leaseUntil: Date): Promise<void> {
  await q.query('update capture_uploads set writing_until = null where id = $1 and writing_until = $2', [
    uploadId,
    leaseUntil,
  ]);
}

/**
 * Storage a verification holds or has announced: its media, and the declared sizes of its unfinished
 * uploads. And the same for every open verification of its tenant.
 */
export async function storageHeld(
  q: Queryable,
  verificationId: string,
): Promise<{ verification: number; tenant: number }> {
  const r = await q.query<{ verification: string | number; tenant: string | number }>(
    `with v as (select client_id from verifications where id = $1),
     held as (
       select w.id, coalesce((select sum(bytes) from capture_media m where m.verification_id = w.id), 0)
                  + coalesce((select sum(total_bytes) from capture_uploads u where u.verification_id = w.id and u.completed_at is null), 0) as bytes
         from verifications w where w.client_id = (select client_id from v) and w.state in ('initiated', 'processing'))
     select coalesce((select bytes from held where id = $1), 0) as verification, coalesce(sum(bytes), 0) as tenant from held`,
    [verificationId],
  );
  return { verification: Number(r.rows[0].verification), tenant: Number(r.rows[0].tenant) };
}

/** An upload that will never complete (a single PUT that failed): it no longer counts against quotas. */
export async function deleteUpload(q: Queryable, uploadId: string): Promise<void> {
  await q.query(
    'delete from capture_uploads where id = $1 and not exists (select 1 from capture_upload_chunks where upload_id = $1)',
    [uploadId],
  );
}
