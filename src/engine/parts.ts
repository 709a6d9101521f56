/**
 * The two independent halves of a session's analysis: the face part (face video → observations,
 * replay test, face key frame) and the document part (document media → outlines, quality, MRZ
 * reads, portrait, key frames). Each decodes only its own media, so the two can run in different
 * processes at the same time (see pool.ts); their results are plain data (structured-clone safe:
 * no pixels except the JPEG key frames) that `assembleResult` turns into the verdict.
 */
import sharp from 'sharp';
import type { AnalysisInput, AnalysisMedia } from '../app/ports.ts';
import type { EngineConfig } from './config.ts';
import { decodeMedia, type DecodedMedia, type RgbFrame } from './decode.ts';
import { analyseDocumentMedium, type DocumentMediumAnalysis } from './document/analyse.ts';
import { observeFaces, type FaceObservation } from './face/observe.ts';
import { textureMotionPlanarity } from './face/planarity.ts';
import type { HumanModels } from './models/human.ts';
import type { CV } from './models/opencv.ts';
import type { GlyphModel } from './mrz/glyphs.ts';

export interface EngineModels {
  human: HumanModels;
  cv: CV;
  cvVersion: string;
  glyphs: GlyphModel;
}

/** What a decoded medium leaves behind once its frames are analysed (frames dropped: memory, IPC). */
export interface MediumSummary {
  step: AnalysisMedia['step'];
  decoded: DecodedMedia;
  sampledFrames: number;
}

export interface FacePart {
  media: MediumSummary[];
  obs: FaceObservation[];
  texture?: ReturnType<typeof textureMotionPlanarity>;
  keyJpeg?: Buffer;
  timings: Record<string, number>;
}

export interface DocumentPart {
  media: MediumSummary[];
  docs: (DocumentMediumAnalysis & { keyJpeg?: Buffer })[];
  timings: Record<string, number>;
}

/** The input of a part: the session without its abort signal (which cannot cross a process boundary). */
export type PartInput = Omit<AnalysisInput, 'signal'>;

export const isFaceMedium = (m: AnalysisMedia) => m.step === 'face';

function timer() {
  const timings: Record<string, number> = {};
  const stage = async <X>(name: string, fn: () => Promise<X> | X): Promise<X> => {
    const s = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = Math.round((timings[name] ?? 0) + performance.now() - s);
    }
  };
  return { timings, stage };
}

export function decodeFor(cfg: EngineConfig, m: AnalysisMedia, signal?: AbortSignal): Promise<DecodedMedia> {
  const face = isFaceMedium(m);
  return decodeMedia(m.path, m.contentType, {
    ffmpegPath: cfg.ffmpegPath,
    timeoutMs: cfg.decodeTimeoutMs,
    signal,
    maxFrames: face ? cfg.maxFramesPerMedium : cfg.maxDocumentFrames,
    fps: face ? cfg.faceSampleFps : cfg.documentSampleFps,
    width: face ? cfg.faceFrameWidth : cfg.documentFrameWidth,
    maxPixels: cfg.maxMediaPixels,
    maxFps: cfg.maxMediaFps,
    maxSeconds: cfg.maxMediaSeconds,
    maxStillPixels: cfg.maxStillPixels,
  });
}

export async function jpegOf(f: RgbFrame, quality = 85): Promise<Buffer> {
  return sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

const summary = (step: AnalysisMedia['step'], d: DecodedMedia): MediumSummary => ({
  step,
  decoded: { ...d, frames: [] },
  sampledFrames: d.frames.length,
});

/**
 * Document media, one after the other, each decoded while the previous one is analysed; frames are
 * released as soon as their medium is analysed. `onLastMedium` tells a caller when the last medium
 * is being analysed (the in-process engine starts the face decode then: overlap without holding
 * every medium's frames at once).
 */
export async function analyseDocumentPart(
  models: EngineModels,
  cfg: EngineConfig,
  input: PartInput,
  signal?: AbortSignal,
  onLastMedium?: () => void,
): Promise<DocumentPart> {
  const { timings, stage } = timer();
  const order = input.media.filter((m) => !isFaceMedium(m));
  const media: MediumSummary[] = [];
  const docs: DocumentPart['docs'] = [];
  let next = order.length ? decodeFor(cfg, order[0], signal) : null;
  for (let i = 0; i < order.length; i++) {
    const d = await stage('decode', () => next!);
    next = i + 1 < order.length ? decodeFor(cfg, order[i + 1], signal) : null;
    if (i === order.length - 1) onLastMedium?.();
    media.push(summary(order[i].step, d));
    if (!d.ok) continue;
    const step = order[i].step;
    const a = await stage('document', () =>
      analyseDocumentMedium(step, d, {
        cv: models.cv,
        human: models.human,
        glyphs: models.glyphs,
        minFaceScore: cfg.thresholds.minFaceScore,
        mrzFrames: d.kind === 'still' ? 1 : 4,
        portraitFrames: step === 'document_back' ? 0 : d.kind === 'still' ? 1 : 2,
        screenMinFreq: cfg.thresholds.screenMinFrequency,
        screenMinPeakRatio: cfg.thresholds.screenMinPeakRatio,
        signal,
      }),
    );
    const key = d.frames[a.keyFrame];
    docs.push({
      ...a,
      keyJpeg:
        key && (step === 'document_front' || step === 'document_back')
          ? await stage('keyframes', () => jpegOf(key))
          : undefined,
    });
    d.frames = [];
  }
  if (signal?.aborted) throw new Error('analysis aborted');
  return { media, docs, timings };
}

/** Face media: per-frame observations (Human), the texture replay test and the face key frame. */
export async function analyseFacePart(
  models: EngineModels,
  cfg: EngineConfig,
  input: PartInput,
  signal?: AbortSignal,
  prefetched?: Promise<DecodedMedia>[],
): Promise<FacePart> {
  const { timings, stage } = timer();
  const faceMedia = input.media.filter(isFaceMedium);
  const decoded = await stage('decode', () =>
    Promise.all(faceMedia.map((m, i) => prefetched?.[i] ?? decodeFor(cfg, m, signal))),
  );
  const media = decoded.map((d, i) => summary(faceMedia[i].step, d));
  const ok = decoded.filter((d) => d.ok);
  const frames: RgbFrame[] = ok.flatMap((d) => d.frames).map((f, index) => ({ ...f, index }));
  let obs: FaceObservation[] = [];
  let texture: FacePart['texture'];
  let keyJpeg: Buffer | undefined;
  if (ok.length) {
    obs = await stage('face', () =>
      observeFaces(frames, models.human, { minFaceScore: cfg.thresholds.minFaceScore, fullFrames: 3, signal }),
    );
    if (obs.some((o) => o.faces >= 1))
      texture = await stage('planarity', () =>
        textureMotionPlanarity(models.cv, frames, obs, { fps: cfg.faceSampleFps, maxPairs: 8 }),
      );
    const best =
      obs.filter((o) => o.embedding).sort((a, b) => Math.abs(a.yaw) - Math.abs(b.yaw))[0] ??
      obs.find((o) => o.faces > 0);
    if (best) keyJpeg = await stage('keyframes', () => jpegOf(frames[best.frame]));
  }
  if (signal?.aborted) throw new Error('analysis aborted');
  return { media, obs, texture, keyJpeg, timings };
}
