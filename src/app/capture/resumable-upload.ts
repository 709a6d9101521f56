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
import {
  appendUploadChunk,
  completeUpload,
  countUploads,
  deletePendingChunks,
  findUpload,
  insertUpload,
  listPendingChunks,
  listUploadChunks,
  type UploadRecord,
} from '../../storage/db/repo/capture.ts';
import type { Verification } from '../../storage/db/repo/verifications.ts';
import type { AppDeps } from '../deps.ts';
import { type CaptureStep, findByCaptureToken } from './capture-session.ts';
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

const toStatus = (r: UploadRecord): UploadStatus => ({
  uploadId: r.id,
  step: r.step,
  size: r.totalBytes,
  offset: r.receivedBytes,
  complete: !!r.completedAt,
  chunkMaxBytes: CHUNK_MAX_BYTES,
});

function assertOpen(v: Verification, now: Date) {
  transition({ id: v.id, state: v.state, expiresAt: v.expiresAt, startedAt: v.startedAt }, { type: 'open' }, now); // 410 / 409
}

/** POST …/uploads, as the API has checked its shape: a known step, a content type, a size in bytes. */
export interface StartUploadInput {
  step: CaptureStep;
  contentType: string;
  size: number;
}

export async function startUpload(deps: AppDeps, token: unknown, b: StartUploadInput): Promise<UploadStatus> {
  const contentType = b.contentType.split(';')[0].trim().toLowerCase();
  if (!ACCEPTED_MEDIA_TYPES.includes(contentType)) {
    throw new KycError('unsupported_media_type', `contentType must be one of ${ACCEPTED_MEDIA_TYPES.join(', ')}.`, {
      param: 'contentType',
    });
  }
  if (b.size > deps.config.uploads.maxBytes)
    throw new KycError('payload_too_large', `A capture file may be at most ${deps.config.uploads.maxBytes} bytes.`, {
      param: 'size',
    });
  const v = await findByCaptureToken(deps.db, token);
  const now = deps.clock.now();
  assertOpen(v, now);
  return deps.db.transaction(async (tx) => {
    if ((await countUploads(tx, v.id)) >= MAX_UPLOADS_PER_VERIFICATION)
      throw new KycError('rate_limited', 'Too many uploads for this verification.');
    const u = await insertUpload(tx, {
      id: randomUUID(),
      verificationId: v.id,
      step: b.step as string,
      contentType,
      totalBytes: b.size as number,
      at: now,
    });
    return toStatus(u);
  });
}

async function loadUpload(
  deps: AppDeps,
  token: unknown,
  uploadId: unknown,
): Promise<{ v: Verification; row: UploadRecord }> {
  const v = await findByCaptureToken(deps.db, token);
  if (typeof uploadId !== 'string' || !UUID.test(uploadId))
    throw new KycError('not_found', 'Unknown upload.', { param: 'uploadId' });
  const row = await findUpload(deps.db, v.id, uploadId);
  if (!row) throw new KycError('not_found', 'Unknown upload.', { param: 'uploadId' });
  return { v, row };
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
  offset: number,
  body: Readable,
): Promise<UploadStatus & { media?: { step: string; bytes: number; sha256: string } }> {
  const { v, row } = await loadUpload(deps, token, uploadId);
  assertOpen(v, deps.clock.now());
  const size = row.totalBytes;
  if (row.completedAt)
    throw new KycError('conflict', 'This upload is already complete.', { details: { offset: size } });
  if (offset !== row.receivedBytes) {
    body.resume();
    throw offsetConflict(row.receivedBytes);
  }
  const chunk = await readLimited(body, Math.min(CHUNK_MAX_BYTES, size - offset));
  if (chunk.length === 0 && offset < size) throw new KycError('invalid_request', 'A chunk must not be empty.');
  if (chunk.length > 0) {
    const key = `uploads/${v.id}/${row.id}/${offset}-${randomUUID()}`;
    await deps.blobs.put(key, chunk);
    try {
      await deps.db.transaction(async (tx) => {
        const locked = (await findUpload(tx, v.id, row.id, true))!;
        // Another request for the same offset may have won while this one was streaming.
        if (locked.receivedBytes !== offset) throw offsetConflict(locked.receivedBytes);
        await appendUploadChunk(tx, {
          uploadId: row.id,
          offset,
          bytes: chunk.length,
          blobKey: key,
          at: deps.clock.now(),
        });
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

async function assemble(deps: AppDeps, token: unknown, row: UploadRecord) {
  const chunks = await listUploadChunks(deps.db, row.id);
  const blobs = deps.blobs;
  const stream = Readable.from(
    (async function* () {
      for (const key of chunks) for await (const part of await blobs.get(key)) yield part as Buffer;
    })(),
  );
  const media = await uploadCaptureMedia(deps, token, row.step, row.contentType, stream);
  await deps.db.transaction((tx) => completeUpload(tx, row.id, deps.clock.now()));
  for (const key of chunks) await deps.blobs.delete(key).catch(() => {});
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
    for (const key of await listPendingChunks(deps.db, verificationId)) await deps.blobs.delete(key);
    await deletePendingChunks(deps.db, verificationId);
  } catch (err) {
    deps.log.warn({ err, verificationId }, 'could not discard pending capture uploads');
  }
}
