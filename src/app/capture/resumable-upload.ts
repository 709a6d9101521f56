/**
 * Resumable chunked uploads of a capture step. Phones drop connections mid-upload (lift, train,
 * Wi-Fi to 4G): instead of restarting a 20 MB video, the browser asks which offset the server
 * holds and sends the rest. Chunks are kept as blobs until the last one arrives; then they are
 * streamed, in order, through the one media pipeline (type check, hash, size limit) into
 * capture_media exactly like a single PUT.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { KycError } from '../../domain/errors.ts';
import { transition } from '../../domain/verification/transitions.ts';
import type { Verification } from '../../storage/db/repo/verifications.ts';
import type { AppDeps } from '../deps.ts';
import { CAPTURE_STEPS, findByCaptureToken } from './capture-session.ts';
import { ACCEPTED_MEDIA_TYPES, uploadCaptureMedia } from './upload-capture-media.ts';

/** Small enough to get through a weak mobile link between two drops, large enough to keep requests few. */
export const CHUNK_MAX_BYTES = 4 * 1024 * 1024;
/** A retry opens a new upload; this bounds what a looping client can leave behind. */
const MAX_UPLOADS_PER_VERIFICATION = 40;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface UploadStatus {
  uploadId: string;
  step: string;
  size: number;
  offset: number;
  complete: boolean;
  chunkMaxBytes: number;
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

const toStatus = (r: UploadRow): UploadStatus => ({
  uploadId: r.id,
  step: r.step,
  size: Number(r.total_bytes),
  offset: Number(r.received_bytes),
  complete: !!r.completed_at,
  chunkMaxBytes: CHUNK_MAX_BYTES,
});

function assertOpen(v: Verification, now: Date) {
  transition({ id: v.id, state: v.state, expiresAt: v.expiresAt, startedAt: v.startedAt }, { type: 'open' }, now); // 410 / 409
}

export async function startUpload(deps: AppDeps, token: unknown, body: unknown): Promise<UploadStatus> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new KycError('invalid_request', 'The request body must be a JSON object with step, contentType and size.');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !['step', 'contentType', 'size'].includes(k));
  if (unknown.length) throw new KycError('invalid_request', `Unknown attribute: ${unknown[0]}.`, { param: unknown[0] });
  if (b.step === undefined) throw new KycError('missing_parameter', 'step is required.', { param: 'step' });
  if (typeof b.step !== 'string' || !(CAPTURE_STEPS as readonly string[]).includes(b.step)) {
    throw new KycError('invalid_request', `step must be one of ${CAPTURE_STEPS.join(', ')}.`, { param: 'step' });
  }
  if (b.contentType === undefined)
    throw new KycError('missing_parameter', 'contentType is required.', { param: 'contentType' });
  const contentType = typeof b.contentType === 'string' ? b.contentType.split(';')[0].trim().toLowerCase() : '';
  if (!ACCEPTED_MEDIA_TYPES.includes(contentType)) {
    throw new KycError('unsupported_media_type', `contentType must be one of ${ACCEPTED_MEDIA_TYPES.join(', ')}.`, {
      param: 'contentType',
    });
  }
  if (b.size === undefined) throw new KycError('missing_parameter', 'size is required.', { param: 'size' });
  if (typeof b.size !== 'number' || !Number.isInteger(b.size) || b.size < 1)
    throw new KycError('invalid_request', 'size must be a positive integer (bytes).', { param: 'size' });
  if (b.size > deps.config.uploads.maxBytes)
    throw new KycError('payload_too_large', `A capture file may be at most ${deps.config.uploads.maxBytes} bytes.`, {
      param: 'size',
    });
  const v = await findByCaptureToken(deps.db, token);
  const now = deps.clock.now();
  assertOpen(v, now);
  return deps.db.transaction(async (tx) => {
    const n = await tx.query<{ n: string }>('select count(*) as n from capture_uploads where verification_id = $1', [
      v.id,
    ]);
    if (Number(n.rows[0].n) >= MAX_UPLOADS_PER_VERIFICATION)
      throw new KycError('rate_limited', 'Too many uploads for this verification.');
    const r = await tx.query<UploadRow>(
      `insert into capture_uploads (id, verification_id, step, content_type, total_bytes, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $6) returning *`,
      [randomUUID(), v.id, b.step, contentType, b.size, now],
    );
    return toStatus(r.rows[0]);
  });
}

async function loadUpload(
  deps: AppDeps,
  token: unknown,
  uploadId: unknown,
): Promise<{ v: Verification; row: UploadRow }> {
  const v = await findByCaptureToken(deps.db, token);
  if (typeof uploadId !== 'string' || !UUID.test(uploadId))
    throw new KycError('not_found', 'Unknown upload.', { param: 'uploadId' });
  const r = await deps.db.query<UploadRow>('select * from capture_uploads where id = $1 and verification_id = $2', [
    uploadId,
    v.id,
  ]);
  if (!r.rows[0]) throw new KycError('not_found', 'Unknown upload.', { param: 'uploadId' });
  return { v, row: r.rows[0] };
}

export async function getUploadStatus(deps: AppDeps, token: unknown, uploadId: unknown): Promise<UploadStatus> {
  return toStatus((await loadUpload(deps, token, uploadId)).row);
}

/**
 * Reads a chunk into memory. Past `max` (the chunk limit, or what is left of the upload) the rest
 * is drained and discarded so the client still gets the 413; past the absolute chunk limit the
 * connection is cut instead of reading on.
 */
async function readLimited(body: Readable, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += (c as Buffer).length;
    if (n > CHUNK_MAX_BYTES) {
      body.destroy();
      break;
    }
    if (n <= max) parts.push(c as Buffer);
  }
  if (n > max)
    throw new KycError(
      'payload_too_large',
      `This chunk may be at most ${max} bytes (the chunk limit or what is left of the upload).`,
    );
  return Buffer.concat(parts);
}

function parseOffset(raw: unknown): number {
  const s = Array.isArray(raw) ? raw[0] : raw;
  if (s === undefined)
    throw new KycError('missing_parameter', 'The Upload-Offset header is required.', { param: 'Upload-Offset' });
  if (typeof s !== 'string' || !/^\d{1,15}$/.test(s))
    throw new KycError('invalid_request', 'Upload-Offset must be a non-negative integer.', { param: 'Upload-Offset' });
  return Number(s);
}

const offsetConflict = (held: number) =>
  new KycError('conflict', `Upload-Offset does not match the ${held} bytes the server holds; resume from there.`, {
    param: 'Upload-Offset',
    details: { offset: held },
  });

/**
 * Appends one chunk at Upload-Offset. The last chunk (or an empty request at the full size, to
 * retry a failed assembly) assembles the media and answers with its hash.
 */
export async function appendChunk(
  deps: AppDeps,
  token: unknown,
  uploadId: unknown,
  rawOffset: unknown,
  body: Readable,
): Promise<UploadStatus & { media?: { step: string; bytes: number; sha256: string } }> {
  const offset = parseOffset(rawOffset);
  const { v, row } = await loadUpload(deps, token, uploadId);
  assertOpen(v, deps.clock.now());
  const size = Number(row.total_bytes);
  if (row.completed_at)
    throw new KycError('conflict', 'This upload is already complete.', { details: { offset: size } });
  if (offset !== Number(row.received_bytes)) {
    body.resume();
    throw offsetConflict(Number(row.received_bytes));
  }
  const chunk = await readLimited(body, Math.min(CHUNK_MAX_BYTES, size - offset));
  if (chunk.length === 0 && offset < size) throw new KycError('invalid_request', 'A chunk must not be empty.');
  if (chunk.length > 0) {
    const key = `uploads/${v.id}/${row.id}/${offset}-${randomUUID()}`;
    await deps.blobs.put(key, chunk);
    try {
      await deps.db.transaction(async (tx) => {
        const locked = await tx.query<UploadRow>('select * from capture_uploads where id = $1 for update', [row.id]);
        // Another request for the same offset may have won while this one was streaming.
        if (Number(locked.rows[0].received_bytes) !== offset)
          throw offsetConflict(Number(locked.rows[0].received_bytes));
        await tx.query(
          'insert into capture_upload_chunks (upload_id, start_offset, bytes, blob_key) values ($1, $2, $3, $4)',
          [row.id, offset, chunk.length, key],
        );
        await tx.query('update capture_uploads set received_bytes = $2, updated_at = $3 where id = $1', [
          row.id,
          offset + chunk.length,
          deps.clock.now(),
        ]);
      });
    } catch (e) {
      await deps.blobs.delete(key).catch(() => {});
      throw e;
    }
  }
  const received = offset + chunk.length;
  const status: UploadStatus = { ...toStatus(row), offset: received };
  if (received < size) return status;
  return { ...status, complete: true, media: await assemble(deps, token, row) };
}

async function assemble(deps: AppDeps, token: unknown, row: UploadRow) {
  const chunks = (
    await deps.db.query<{ blob_key: string }>(
      'select blob_key from capture_upload_chunks where upload_id = $1 order by start_offset',
      [row.id],
    )
  ).rows;
  const blobs = deps.blobs;
  const stream = Readable.from(
    (async function* () {
      for (const c of chunks) for await (const part of await blobs.get(c.blob_key)) yield part as Buffer;
    })(),
  );
  const media = await uploadCaptureMedia(deps, token, row.step, row.content_type, stream);
  await deps.db.transaction(async (tx) => {
    await tx.query('update capture_uploads set completed_at = $2, updated_at = $2 where id = $1', [
      row.id,
      deps.clock.now(),
    ]);
    await tx.query('delete from capture_upload_chunks where upload_id = $1', [row.id]);
  });
  for (const c of chunks) await deps.blobs.delete(c.blob_key).catch(() => {});
  return media;
}

/** Upload-speed probe before filming: the browser times this request; the server only counts bytes. */
export const PROBE_MAX_BYTES = 1024 * 1024;

export async function probeConnection(deps: AppDeps, token: unknown, body: Readable): Promise<{ bytes: number }> {
  const v = await findByCaptureToken(deps.db, token);
  assertOpen(v, deps.clock.now());
  let bytes = 0;
  for await (const c of body) {
    bytes += (c as Buffer).length;
    if (bytes > PROBE_MAX_BYTES) {
      body.destroy();
      throw new KycError('payload_too_large', `A probe may be at most ${PROBE_MAX_BYTES} bytes.`);
    }
  }
  return { bytes };
}

/**
 * Once a capture is completed or aborted, chunks of uploads that never finished are of no use:
 * drop them (best effort; a failure leaves orphans, never breaks the finish).
 */
export async function discardPendingUploads(deps: AppDeps, verificationId: string): Promise<void> {
  try {
    const r = await deps.db.query<{ upload_id: string; blob_key: string }>(
      `select c.upload_id, c.blob_key from capture_upload_chunks c join capture_uploads u on u.id = c.upload_id
        where u.verification_id = $1 and u.completed_at is null`,
      [verificationId],
    );
    for (const c of r.rows) await deps.blobs.delete(c.blob_key);
    await deps.db.query(
      'delete from capture_upload_chunks where upload_id in (select id from capture_uploads where verification_id = $1 and completed_at is null)',
      [verificationId],
    );
  } catch (err) {
    deps.log.warn({ err, verificationId }, 'could not discard pending capture uploads');
  }
}
