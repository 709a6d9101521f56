/** Camera access and recording. Codecs are the ones the server's ffmpeg decodes. */

const MIME_PREFERENCE = [
  'video/webm;codecs=vp8',
  'video/webm;codecs=vp9',
  'video/webm',
  'video/mp4;codecs=avc1',
  'video/mp4',
];

export function pickMimeType(): string | null {
  if (typeof MediaRecorder === 'undefined') return null;
  return MIME_PREFERENCE.find((m) => MediaRecorder.isTypeSupported(m)) ?? null;
}

export function browserSupported(): boolean {
  return !!navigator.mediaDevices?.getUserMedia && pickMimeType() !== null && typeof fetch === 'function';
}

/** The documented redirect row for a getUserMedia failure. */
export function cameraErrorRow(e: unknown): [string, string] {
  const name = (e as { name?: string })?.name ?? '';
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError')
    return ['error', 'device_not_allowed'];
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError')
    return ['error', 'device_not_found'];
  return ['error', 'publish'];
}

/** Rear camera for documents, front camera for the face, where the device has both. */
export async function openCamera(facing: 'environment' | 'user'): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({
    audio: false,
    video: {
      facingMode: { ideal: facing },
      width: { ideal: 1280 },
      height: { ideal: 720 },
      frameRate: { ideal: 24, max: 30 },
    },
  });
}

export function stopStream(s: MediaStream | null | undefined) {
  for (const t of s?.getTracks() ?? []) t.stop();
}

export interface Recording {
  stop(): Promise<Blob>;
  startedAt: number;
}

export function record(stream: MediaStream): Recording {
  const mimeType = pickMimeType()!;
  // ~1.5 Mbit/s: enough detail for document text at 720p, small enough for a weak mobile uplink.
  const rec = new MediaRecorder(stream, { mimeType, videoBitsPerSecond: 1_500_000 });
  const parts: Blob[] = [];
  rec.ondataavailable = (e) => {
    if (e.data.size) parts.push(e.data);
  };
  const stopped = new Promise<Blob>((resolve) => {
    rec.onstop = () => resolve(new Blob(parts, { type: mimeType.split(';')[0] }));
  });
  rec.start(500);
  return {
    startedAt: Date.now(),
    stop: () => {
      if (rec.state !== 'inactive') rec.stop();
      return stopped;
    },
  };
}
