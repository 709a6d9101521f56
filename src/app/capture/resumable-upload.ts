/**
 * Resumable chunked uploads of a capture step. Phones drop connections mid-upload (lift, train,
 * Wi-Fi to 4G): instead of restarting a 20 MB video, the browser asks which offset the server
 * holds and sends the rest. Chunks are kept as blobs until the last one arrives; then they are
 * streamed, in order, through the one media pipeline (type check, hash, size limit) into
 * capture_media exactly like a single PUT.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { isKycError, KycError } from '../../domain/errors.ts';
import { transition } from '../../domain/verification/transitions.ts';
import {
  appendUploadChunk,
  claimUploadWriter,
  completeUpload,
  countUploads,
  deleteUpload,
  deletePendingChunks,
  findUpload,
  insertUpload,
  listPendingChunks,
  listUploadChunks,
  releaseUploadWriter,
  storageHeld,
  type UploadRecord,
} from '../../storage/db/repo/capture.ts';
import { findById, type Verification } from '../../storage/db/repo/verifications.ts';
import type { AppDeps } from '../deps.ts';
import type { Queryable } from '../ports.ts';
import { type CaptureStep, findByCaptureToken } from './capture-session.ts';
import { ACCEPTED_MEDIA_TYPES, uploadCaptureMedia } from './upload-capture-media.ts';

/** Small enough to get through a weak mobile link between two drops, large enough to keep requests few. */
export const CHUNK_MAX_BYTES = 4 * 1024 * 1024;
/** A retry opens a new upload; this bounds what a looping client can leave behind (4 steps, a few retries each). */
const MAX_UPLOADS_PER_VERIFICATION = 16;
/**
 * How long a chunk's writer holds the upload's offset: a 4 MiB chunk at 0.25 Mbit/s. A writer that
 * fails gives it back at once; only a process that dies leaves it to lapse.
 */
const WRITER_LEASE_MS = 5 * 60_000;
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
    // One upload is announced at a time per verification: the count and the quota hold under concurrency.
    await findById(tx, v.id, true);
    if ((await countUploads(tx, v.id)) >= MAX_UPLOADS_PER_VERIFICATION)
      throw new KycError('rate_limited', 'Too many uploads for this verification.');
    await assertStorageQuota(deps, tx, v.id, b.size);
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
  const now = deps.clock.now();
  assertOpen(v, now);
  const size = row.totalBytes;
  if (row.completedAt)
    throw new KycError('conflict', 'This upload is already complete.', { details: { offset: size } });
  // The offset is claimed before a byte of the body is read: a request for the wrong offset, or
  // one racing another writer, is answered at once and its body never lands anywhere.
  const leaseUntil = new Date(now.getTime() + WRITER_LEASE_MS);
  const claimed = offset < size ? await claimUploadWriter(deps.db, row.id, offset, now, leaseUntil) : null;
  if (!claimed) {
    const held = (await findUpload(deps.db, v.id, row.id))!;
    if (held.receivedBytes !== offset) throw offsetConflict(held.receivedBytes);
    if (offset < size)
      throw new KycError('conflict', 'A chunk at this offset is being written by another request; retry in a moment.', {
        param: 'Upload-Offset',
        details: { offset: held.receivedBytes },
      });
  }
  let received = offset;
  if (claimed) {
    const key = `uploads/${v.id}/${row.id}/${offset}-${randomUUID()}`;
    try {
      // Streamed to the blob store: the chunk is never held in memory.
      const { bytes } = await deps.blobs.put(key, body, { maxBytes: Math.min(CHUNK_MAX_BYTES, size - offset) });
      if (bytes === 0) throw new KycError('invalid_request', 'A chunk must not be empty.');
      await deps.db.transaction(async (tx) => {
        const locked = (await findUpload(tx, v.id, row.id, true))!;
        if (locked.receivedBytes !== offset) throw offsetConflict(locked.receivedBytes);
        await appendUploadChunk(tx, { uploadId: row.id, offset, bytes, blobKey: key, at: deps.clock.now() });
        await releaseUploadWriter(tx, row.id, leaseUntil);
      });
      received = offset + bytes;
    } catch (e) {
      await deps.blobs.delete(key).catch(() => {});
      await releaseUploadWriter(deps.db, row.id, leaseUntil).catch(() => {});
      if (isKycError(e) && e.code === 'payload_too_large')
        throw new KycError(
          'payload_too_large',
          `This chunk may be at most ${Math.min(CHUNK_MAX_BYTES, size - offset)} bytes (the chunk limit or what is left of the upload).`,
        );
      throw e;
    }
  }
  const status: UploadStatus = { ...toStatus(row), offset: received };
  if (received < size) return status;
  return { ...status, complete: true, media: await assemble(deps, token, row) };
}

/**
 * What one capture link, and all of its tenant's open links, may hold at once: a flood of large
 * uploads on one link (or many links) cannot fill the disk.
 */
export async function assertStorageQuota(
  deps: AppDeps,
  q: Queryable,
  verificationId: string,
  adding: number,
): Promise<void> {
  const held = await storageHeld(q, verificationId);
  const { maxBytesPerVerification, maxBytesPerTenant } = deps.config.uploads;
  if (held.verification + adding > maxBytesPerVerification)
    throw new KycError(
      'payload_too_large',
      `This verification may hold at most ${maxBytesPerVerification} bytes of capture files.`,
      {
        details: { heldBytes: held.verification },
      },
    );
  if (held.tenant + adding > maxBytesPerTenant)
    throw new KycError('rate_limited', 'Too many capture files are waiting for this client: retry later.', {
      details: { retryAfterSeconds: 60 },
    });
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

/**
 * PUT …/media/{step}: a whole capture file in one request. It is announced like a resumable upload
 * (its declared size counts against the quotas, and the count of uploads) before its body is read,
 * then streamed through the media pipeline.
 */
export async function putCaptureMedia(
  deps: AppDeps,
  token: unknown,
  step: CaptureStep,
  contentType: string | undefined,
  declaredBytes: number | undefined,
  body: Readable,
): Promise<{ step: CaptureStep; bytes: number; sha256: string }> {
  const upload = await startUpload(deps, token, {
    step,
    contentType: contentType ?? '',
    // without a Content-Length, the most a file may be
    size: declaredBytes ?? deps.config.uploads.maxBytes,
  });
  try {
    const media = await uploadCaptureMedia(deps, token, step, contentType, body);
    await deps.db.transaction((tx) => completeUpload(tx, upload.uploadId, deps.clock.now()));
    return media;
  } catch (e) {
    await deleteUpload(deps.db, upload.uploadId).catch(() => {});
    throw e;
  }
}
