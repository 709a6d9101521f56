/**
 * What the capture app reports about the capture: device facts and timings, no personal data. It
 * comes from the person being verified, so every field is typed and bounded here, and a field this
 * schema does not know is refused: the engine reads these values, and a value of the wrong type
 * must never reach it (issue 25: a numeric camera label used to throw inside the device check and
 * turn the whole verdict into a review).
 */
import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { KycError } from './errors.ts';

const text = (maxLength: number) => Type.String({ maxLength });
/** Epoch milliseconds, as Date.now() gives them in the browser. */
const epochMs = Type.Number({ minimum: 0, maximum: 8.64e15 });
const epochList = Type.Array(epochMs, { maxItems: 32 });
const count = Type.Integer({ minimum: 0, maximum: 1_000_000 });

export const CaptureMetadataSchema = Type.Object(
  {
    userAgent: Type.Optional(text(512)),
    webdriver: Type.Optional(Type.Boolean()),
    cameraLabel: Type.Optional(text(256)),
    documentCameraLabel: Type.Optional(text(256)),
    /** Epoch ms at which each challenge of the script was shown, in script order. */
    challengeShownAt: Type.Optional(epochList),
    challengeDoneAt: Type.Optional(epochList),
    documentChallengeShownAt: Type.Optional(epochList),
    /** Epoch ms when the face video started: maps challengeShownAt onto the video's timeline. */
    faceRecordingStartedAt: Type.Optional(epochMs),
    droppedFrames: Type.Optional(count),
    uploadRetries: Type.Optional(count),
    connection: Type.Optional(
      Type.Object(
        {
          downlinkMbps: Type.Optional(Type.Number({ minimum: 0, maximum: 100_000 })),
          probeMs: Type.Optional(Type.Number({ minimum: 0, maximum: 3_600_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** The MediaRecorder's mime type, e.g. video/webm;codecs=vp8; null where the browser has no MediaRecorder. */
    mimeType: Type.Optional(Type.Union([text(128), Type.Null()])),
    device: Type.Optional(Type.Union([Type.Literal('mobile'), Type.Literal('desktop')])),
    handoff: Type.Optional(Type.Boolean()),
    screen: Type.Optional(Type.String({ maxLength: 16, pattern: '^[0-9]{1,5}x[0-9]{1,5}$' })),
  },
  { additionalProperties: false },
);

export type CaptureMetadata = Static<typeof CaptureMetadataSchema>;

const checker = TypeCompiler.Compile(CaptureMetadataSchema);

/** The capture metadata, or a KycError naming the first field at fault. Absent metadata is empty. */
export function parseCaptureMetadata(raw: unknown): CaptureMetadata {
  if (raw === undefined || raw === null) return {};
  if (checker.Check(raw)) return raw;
  const first = checker.Errors(raw).First();
  const path = first ? first.path.split('/').filter(Boolean).join('.') : '';
  const param = path ? `metadata.${path}` : 'metadata';
  if (first && first.schema === CaptureMetadataSchema && typeof raw === 'object' && !Array.isArray(raw)) {
    const unknown = Object.keys(raw).find((k) => !(k in CaptureMetadataSchema.properties));
    if (unknown !== undefined) {
      throw new KycError('invalid_request', `Unknown capture metadata field: ${unknown.slice(0, 64)}.`, {
        param: `metadata.${unknown.slice(0, 64)}`,
      });
    }
  }
  throw new KycError('invalid_request', `${param} is invalid: ${first?.message ?? 'expected an object'}.`, { param });
}
