import { createHash, randomUUID } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { KycError } from '../../domain/errors.ts';
import { transition } from '../../domain/verification/transitions.ts';
import { findById } from '../../storage/db/repo/verifications.ts';
import { upsertMedia } from '../../storage/db/repo/capture.ts';
import type { AppDeps } from '../deps.ts';
import { CAPTURE_STEPS, findByCaptureToken, type CaptureStep } from './capture-session.ts';

/** Accepted media and the magic bytes each must start with: a declared type must match the content. */
const MEDIA: Record<string, (head: Buffer) => boolean> = {
  'video/webm': (h) => h.length >= 4 && h.readUInt32BE(0) === 0x1a45dfa3,
  'video/x-matroska': (h) => h.length >= 4 && h.readUInt32BE(0) === 0x1a45dfa3,
  'video/mp4': (h) => h.length >= 8 && h.toString('latin1', 4, 8) === 'ftyp',
  'video/quicktime': (h) => h.length >= 8 && ['ftyp', 'moov', 'wide', 'mdat'].includes(h.toString('latin1', 4, 8)),
  'image/jpeg': (h) => h.length >= 3 && h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff,
  'image/png': (h) => h.length >= 8 && h.toString('hex', 0, 8) === '89504e470d0a1a0a',
};

export const ACCEPTED_MEDIA_TYPES = Object.keys(MEDIA);

/** Hashes the stream and checks its first bytes against the declared type as it flows to the blob store. */
function inspect(contentType: string): { stream: Transform; digest: () => string } {
  const hash = createHash('sha256');
  let head = Buffer.alloc(0);
  let checked = false;
  const check = MEDIA[contentType];
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      if (!checked) {
        head = Buffer.concat([head, chunk]).subarray(0, 16);
        if (head.length >= 12) {
          checked = true;
          if (!check(head)) return cb(new KycError('unsupported_media_type', `The content is not ${contentType}.`));
        }
      }
      cb(null, chunk);
    },
    flush(cb) {
      if (!checked && !check(head))
        return cb(new KycError('invalid_request', 'The upload is empty or too short to be a media file.'));
      cb();
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

export async function uploadCaptureMedia(
  deps: AppDeps,
  token: unknown,
  rawStep: unknown,
  rawContentType: unknown,
  body: Readable,
): Promise<{ step: CaptureStep; bytes: number; sha256: string }> {
  if (typeof rawStep !== 'string' || !(CAPTURE_STEPS as readonly string[]).includes(rawStep)) {
    throw new KycError('invalid_request', `step must be one of ${CAPTURE_STEPS.join(', ')}.`, { param: 'step' });
  }
  const step = rawStep as CaptureStep;
  const contentType = String(rawContentType ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (!MEDIA[contentType])
    throw new KycError('unsupported_media_type', `Content-Type must be one of ${ACCEPTED_MEDIA_TYPES.join(', ')}.`);
  const v = await findByCaptureToken(deps.db, token);
  const now = deps.clock.now();
  transition({ id: v.id, state: v.state, expiresAt: v.expiresAt, startedAt: v.startedAt }, { type: 'open' }, now); // throws 410/409
  const key = `captures/${v.id}/${step}-${randomUUID()}`;
  const { stream, digest } = inspect(contentType);
  body.on('error', (e) => stream.destroy(e));
  // The failure reaches the caller through blobs.put's rejection; an extra 'error' event after the
  // store has stopped listening must not crash the process.
  stream.on('error', () => {});
  let bytes: number;
  try {
    ({ bytes } = await deps.blobs.put(key, body.pipe(stream), { maxBytes: deps.config.uploads.maxBytes, contentType }));
  } catch (e) {
    await deps.blobs.delete(key).catch(() => {});
    throw e;
  }
  const sha256 = digest();
  let replaced: string | undefined;
  try {
    replaced = await deps.db.transaction(async (tx) => {
      const locked = await findById(tx, v.id, true);
      // The verification may have been superseded or completed while the bytes were streaming.
      transition(
        { id: v.id, state: locked!.state, expiresAt: locked!.expiresAt, startedAt: locked!.startedAt },
        { type: 'open' },
        deps.clock.now(),
      );
      return upsertMedia(tx, {
        id: randomUUID(),
        verificationId: v.id,
        step,
        blobKey: key,
        contentType,
        bytes,
        sha256,
        at: now,
      });
    });
  } catch (e) {
    await deps.blobs.delete(key).catch(() => {});
    throw e;
  }
  if (replaced) await deps.blobs.delete(replaced).catch(() => {});
  return { step, bytes, sha256 };
}
