import { KycError } from '../../domain/errors.ts';

/**
 * Blob keys are built by kyclive itself (ids, fixed step names), never taken from a request, so
 * a narrow alphabet costs nothing and turns any accident (a user-supplied value slipping into a
 * key) into a loud error instead of a path traversal on disk or an odd S3 key.
 * Segments may not start with '.': that rules out '.' and '..', and reserves dot-names for the
 * disk store's temp files, which therefore can never collide with, or be read as, a real blob.
 */
const SEGMENT = /^[a-z0-9_-][a-z0-9_.-]*$/;
const MAX_KEY_LENGTH = 512;

export function assertBlobKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new KycError('invalid_request', 'invalid blob key');
  }
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment)) throw new KycError('invalid_request', 'invalid blob key');
  }
}

/**
 * The body as a sequence of Buffers. Text chunks are refused rather than guessed at: a stream
 * with an encoding set would otherwise be stored re-encoded, i.e. silently corrupted.
 */
export async function* bodyChunks(body: Buffer | AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(body)) {
    yield body;
    return;
  }
  for await (const chunk of body) {
    if (Buffer.isBuffer(chunk)) yield chunk;
    else if (chunk instanceof Uint8Array) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else throw new KycError('internal', 'blob body must be a byte stream');
  }
}

export function assertMaxBytes(maxBytes: number | undefined): void {
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
    throw new KycError('internal', 'maxBytes must be a non-negative integer');
  }
}

export const payloadTooLarge = (maxBytes: number): KycError =>
  new KycError('payload_too_large', `body exceeds the ${maxBytes} byte limit`, { details: { maxBytes } });
