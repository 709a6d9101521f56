/**
 * The analysis engine: `createEngine(config)` loads every model once (Human on WASM, OpenCV,
 * OCR-B glyph prototypes) and returns an `Analyzer` that turns a capture session into a verdict
 * with evidence and a synthesis report. Analyses on one engine run one at a time (the models are
 * single-threaded WASM; parallelism is one engine per worker process).
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import sharp from 'sharp';
import type { AnalysisInput, AnalysisResult, Analyzer, ExtractedIdentity } from '../app/ports.ts';
import { renderSynthesisReport } from '../report/synthesis-report.ts';
import { resolveEngineConfig, type EngineConfig, type EngineConfigInput } from './config.ts';
import { decodeMedia, type DecodedMedia, type RgbFrame } from './decode.ts';
import { connectionCheck, deviceCheck, playableCheck, timingCheck } from './capture-checks.ts';
import { analyseDocumentMedium, type DocumentMediumAnalysis } from './document/analyse.ts';
import { documentCaptureChecks, MIN_READ_QUALITY, mrzChecks } from './document/checks.ts';
import { faceQualityChecks, identityConsistencyCheck, livenessCheck, presentationAttackCheck } from './face/checks.ts';
import { observeFaces, type FaceObservation } from './face/observe.ts';
import { textureMotionPlanarity } from './face/planarity.ts';
import { cosine, loadHuman, type HumanModels } from './models/human.ts';
import { loadOpenCv, type CV } from './models/opencv.ts';
import { buildGlyphModel, type GlyphModel } from './mrz/glyphs.ts';
import { voteAndDecode, type MrzDecode } from './mrz/read.ts';
import { decide, internalFailure, REASON_MESSAGES } from './policy.ts';
import type { CheckResult } from './types.ts';

export const ENGINE_NAME = 'kyclive-engine';
export const ENGINE_VERSION = '0.1.0';

export interface Engine extends Analyzer {
  readonly name: string;
  readonly config: EngineConfig;
  analyze(input: AnalysisInput): Promise<AnalysisResult>;
  close(): Promise<void>;
}

interface Models { human: HumanModels; cv: CV; cvVersion: string; glyphs: GlyphModel }

export async function createEngine(config: EngineConfigInput = {}): Promise<Engine> {
  const cfg = resolveEngineConfig(config);
  const t0 = performance.now();
  // a missing decoder must not turn into "your video cannot be played" (1911) for every user
  for (const bin of [cfg.ffmpegPath, cfg.ffmpegPath.replace(/ffmpeg$/, 'ffprobe')]) {
    try { accessSync(bin, constants.X_OK); } catch { throw new Error(`engine: ${bin} not found or not executable (install the Debian package ffmpeg)`); }
  }
  const human = await loadHuman({ modelsDir: cfg.humanModelsDir, wasmDir: cfg.wasmDir });
  const { cv, version: cvVersion } = await loadOpenCv();
  const glyphs = await buildGlyphModel(cfg.ocrbFontPath);
  const models: Models = { human, cv, cvVersion, glyphs };
  const loadMs = performance.now() - t0;
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  return {
    name: ENGINE_NAME,
    config: cfg,
    analyze(input) {
      if (closed) return Promise.reject(new Error('engine closed'));
      const run = chain.then(() => analyse(models, cfg, input, loadMs));
      chain = run.catch(() => undefined);
      return run;
    },
    async close() { closed = true; await chain; await human.dispose(); },
  };
}

const sha256File = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

async function jpegOf(f: RgbFrame, quality = 85): Promise<Buffer> {
  return sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } }).jpeg({ quality }).toBuffer();
}

function fmtMeasure(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return (s ?? '').slice(0, 200);
}

async function analyse(models: Models, cfg: EngineConfig, input: AnalysisInput, loadMs: number): Promise<AnalysisResult> {
  const timings: Record<string, number> = {};
  const T = performance.now();
  const stage = async <X>(name: string, fn: () => Promise<X> | X): Promise<X> => {
    const s = performance.now();
    try { return await fn(); } finally { timings[name] = Math.round((timings[name] ?? 0) + performance.now() - s); }
  };
  const now = cfg.now ? cfg.now() : new Date();
  const checks: CheckResult[] = [];
  const evidence: Record<string, unknown> = {
    engine: { name: ENGINE_NAME, version: ENGINE_VERSION, modelLoadMs: Math.round(loadMs) },
    models: [...models.human.versions, { name: '@techstark/opencv-js', version: models.cvVersion }, { name: 'ocr-b glyph prototypes', version: `font ${models.glyphs.font}, ${models.glyphs.samples} samples` }],
    method: input.method,
    thresholds: cfg.thresholds,
  };
  let extracted: ExtractedIdentity | undefined;
  let keyFrames: NonNullable<AnalysisResult['keyFrames']> = [];
  let faceMatchEvidence: { similarity: number; threshold: number } | undefined;
  try {
    // 1. decode every medium (ffmpeg child processes; stills through sharp). One medium is decoded
    // ahead while the previous one is analysed; document frames are dropped once analysed (memory).
    const order = [...input.media].sort((a, b) => Number(a.step === 'face') - Number(b.step === 'face'));
    const decodeOne = (m: AnalysisInput['media'][number]) => decodeMedia(m.path, m.contentType, {
      ffmpegPath: cfg.ffmpegPath, timeoutMs: cfg.decodeTimeoutMs, signal: input.signal, maxFrames: m.step === 'face' ? cfg.maxFramesPerMedium : cfg.maxDocumentFrames,
      fps: m.step === 'face' ? cfg.faceSampleFps : cfg.documentSampleFps, width: m.step === 'face' ? cfg.faceFrameWidth : cfg.documentFrameWidth,
    });
    const decoded: { step: AnalysisInput['media'][number]['step']; decoded: DecodedMedia; sampledFrames: number }[] = [];
    const docs: (DocumentMediumAnalysis & { keyImage?: RgbFrame })[] = [];
    let next = order.length ? decodeOne(order[0]) : null;
    for (let i = 0; i < order.length; i++) {
      const d = await stage('decode', () => next!);
      next = i + 1 < order.length ? decodeOne(order[i + 1]) : null;
      decoded.push({ step: order[i].step, decoded: d, sampledFrames: d.frames.length });
      if (order[i].step !== 'face' && d.ok) {
        const a = await stage('document', () => analyseDocumentMedium(order[i].step, d, { cv: models.cv, human: models.human, glyphs: models.glyphs, minFaceScore: cfg.thresholds.minFaceScore, mrzFrames: d.kind === 'still' ? 1 : 4, portraitFrames: order[i].step === 'document_back' ? 0 : d.kind === 'still' ? 1 : 2, signal: input.signal }));
        docs.push({ ...a, keyImage: d.frames[a.keyFrame] });
        d.frames = [];
      }
    }
    if (input.signal?.aborted) throw new Error('analysis aborted');
    evidence.media = decoded.map((d) => ({ step: d.step, kind: d.decoded.kind, ok: d.decoded.ok, codec: d.decoded.codec ?? null, source: d.decoded.sourceWidth ? `${d.decoded.sourceWidth}x${d.decoded.sourceHeight}` : null, sampledFrames: d.sampledFrames, sourceFrames: d.decoded.sourceTimes.length, measuredDurationSec: Math.round(d.decoded.measuredDuration * 100) / 100, truncated: d.decoded.truncated, decodeMs: Math.round(d.decoded.decodeMs) }));
    checks.push(playableCheck(decoded));
    checks.push(connectionCheck(decoded, input.metadata ?? {}, cfg));
    checks.push(timingCheck(decoded, cfg));
    checks.push(deviceCheck(input.metadata ?? {}, cfg));
    const ok = decoded.filter((d) => d.decoded.ok);
    const faceMedia = ok.filter((d) => d.step === 'face');
    const docMedia = ok.filter((d) => d.step !== 'face');
    // 2. face video
    let faceObs: FaceObservation[] = [];
    const faceFrames: RgbFrame[] = faceMedia.flatMap((d) => d.decoded.frames).map((f, index) => ({ ...f, index }));
    if (faceMedia.length) {
      faceObs = await stage('face', () => observeFaces(faceFrames, models.human, { minFaceScore: cfg.thresholds.minFaceScore, fullFrames: 3, signal: input.signal }));
      checks.push(...faceQualityChecks(faceObs, cfg.thresholds));
      const recStart = typeof input.metadata?.faceRecordingStartedAt === 'number' ? input.metadata.faceRecordingStartedAt as number : undefined;
      const shown = recStart !== undefined && input.metadata?.challengeShownAt?.length ? input.metadata.challengeShownAt.map((ms) => (ms - recStart) / 1000) : undefined;
      if (faceObs.some((o) => o.faces >= 1)) {
        const texture = await stage('planarity', () => textureMotionPlanarity(models.cv, faceFrames, faceObs, { fps: cfg.faceSampleFps, maxPairs: 8 }));
        checks.push(...livenessCheck(faceObs, input.challenges ?? [], shown, cfg.thresholds, texture));
        checks.push(identityConsistencyCheck(faceObs, cfg.thresholds));
        checks.push(presentationAttackCheck(faceObs));
      }
      if (faceMedia.every((d) => d.decoded.kind === 'still')) checks.push({ name: 'face.video', status: 'fail', reason: 1313, measurement: { kind: 'still' }, threshold: 'a face video is required for liveness' });
    } else if (!decoded.some((d) => d.step === 'face')) {
      checks.push({ name: 'face.presence', status: 'fail', reason: 1311, measurement: { faceMedia: 0 }, threshold: 'a face video is required' });
    }
    // 3. documents (analysed above, while the next medium was decoding)
    const allReads = docs.flatMap((d) => d.mrzReads);
    const mrz: MrzDecode | null = await stage('mrz', () => voteAndDecode(allReads, now));
    const perMedium = docs.map((d) => ({ step: d.step, decode: voteAndDecode(d.mrzReads, now) }));
    if (docMedia.length) {
      checks.push(...documentCaptureChecks(docs, mrz, decoded.some((d) => d.step !== 'face' && d.decoded.kind === 'still'), cfg));
    } else if (!decoded.some((d) => d.step !== 'face')) {
      checks.push({ name: 'document.front_presented', status: 'fail', reason: 1302, measurement: { documentMedia: 0 }, threshold: 'a document capture is required' });
    }
    const docFound = docs.some((d) => d.frames.some((f) => f.quad) || d.mrzReads.length > 0);
    checks.push(...mrzChecks(mrz, docFound, perMedium, cfg, input.expected, now));
    if (mrz && mrz.meanScore >= MIN_READ_QUALITY && mrz.fields.valid) {
      const f = mrz.fields;
      extracted = { lastname: f.surname || undefined, firstname: f.givenNames || undefined, birthday: f.birthDate ?? undefined, documentNumber: f.documentNumber || undefined, documentType: f.documentCode || undefined, issuingCountry: f.issuingState || undefined, nationality: f.nationality || undefined, expiryDate: f.expiryDate ?? undefined, sex: f.sex ?? undefined };
    }
    evidence.mrz = mrz ? { format: mrz.format, valid: mrz.fields.valid, checks: mrz.fields.checks, corrections: mrz.corrections.length, meanScore: Math.round(mrz.meanScore * 1000) / 1000, minMargin: Math.round(mrz.minMargin * 1000) / 1000, framesVoted: mrz.framesVoted, framesTried: docs.map((d) => ({ step: d.step, frames: d.mrzFramesTried })) } : { found: false, framesTried: docs.map((d) => ({ step: d.step, frames: d.mrzFramesTried })) };
    // 4. face match: document portrait vs frontal frames of the face video
    const portrait = docs.map((d) => d.portrait).filter(Boolean).sort((a, b) => b!.score - a!.score)[0];
    const faceEmb = faceObs.filter((o) => o.embedding?.length);
    if (portrait && faceEmb.length) {
      const sims = faceEmb.map((o) => cosine(portrait.embedding, o.embedding!)).sort((a, b) => b - a);
      const sim = sims.slice(0, 2).reduce((s, x) => s + x, 0) / Math.min(2, sims.length);
      const th = cfg.thresholds;
      faceMatchEvidence = { similarity: Math.round(sim * 1000) / 1000, threshold: th.faceMatchMinSimilarity };
      checks.push({ name: 'face.match_document', status: sim < th.faceMatchMinSimilarity ? 'fail' : sim < th.faceMatchSureSimilarity ? 'inconclusive' : 'pass', reason: 2304, measurement: { similarity: faceMatchEvidence.similarity, model: 'human/faceres (cosine)', faceFrames: faceEmb.map((o) => o.frame) }, threshold: { refuseBelow: th.faceMatchMinSimilarity, acceptFrom: th.faceMatchSureSimilarity } });
    } else if (faceMedia.length && docMedia.length) {
      checks.push({ name: 'face.match_document', status: 'inconclusive', reason: 2304, measurement: { portraitFound: !!portrait, faceEmbeddings: faceEmb.length }, threshold: 'document portrait and face needed', note: 'face match not possible automatically' });
    }
    // 5. key frames
    keyFrames = await stage('keyframes', async () => {
      const out: NonNullable<AnalysisResult['keyFrames']> = [];
      for (const d of docs) {
        if (d.keyImage && (d.step === 'document_front' || d.step === 'document_back') && !out.some((k) => k.step === d.step)) out.push({ step: d.step, jpeg: await jpegOf(d.keyImage) });
      }
      const best = faceObs.filter((o) => o.embedding).sort((a, b) => Math.abs(a.yaw) - Math.abs(b.yaw))[0] ?? faceObs.find((o) => o.faces > 0);
      if (best) out.push({ step: 'face', jpeg: await jpegOf(faceFrames[best.frame]) });
      return out;
    });
  } catch (e) {
    if (input.signal?.aborted) throw e;
    const v = internalFailure((e as Error).message);
    evidence.error = { message: (e as Error).message };
    return finish(v, checks, evidence, extracted, keyFrames, faceMatchEvidence, input, cfg, timings, T, now);
  }
  const v = decide(checks, { method: input.method, certifiedFraudCode2399: cfg.certifiedFraudCode2399 });
  return finish(v, checks, evidence, extracted, keyFrames, faceMatchEvidence, input, cfg, timings, T, now);
}

async function finish(v: ReturnType<typeof decide>, checks: CheckResult[], evidence: Record<string, unknown>, extracted: ExtractedIdentity | undefined, keyFrames: NonNullable<AnalysisResult['keyFrames']>, faceMatch: { similarity: number; threshold: number } | undefined, input: AnalysisInput, cfg: EngineConfig, timings: Record<string, number>, T: number, now: Date): Promise<AnalysisResult> {
  const inputs = input.media.map((m) => {
    let sha = m.sha256; let bytes: number | undefined;
    try { bytes = statSync(m.path).size; if (!sha) sha = sha256File(m.path); } catch { /* unreadable: recorded as given */ }
    return { step: m.step, sha256: sha, bytes };
  });
  const s = performance.now();
  const report = await renderSynthesisReport({
    verificationId: input.verificationId, method: input.method, simulated: cfg.simulated, generatedAt: now,
    score: v.score, comment: v.comment, reasons: v.reasons.map((code) => ({ code, message: REASON_MESSAGES[code] ?? String(code) })),
    extracted, faceMatch, keyFrames: keyFrames.map((k) => ({ label: k.step, jpeg: k.jpeg })), inputs,
    checks: checks.filter((c) => c.status !== 'skipped').map((c) => ({ name: c.name, passed: c.status === 'pass', measurement: `${c.status}: ${fmtMeasure(c.measurement)}`, threshold: fmtMeasure(c.threshold) })),
    models: (evidence.models as { name: string; version: string }[]) ?? [],
  });
  timings.report = Math.round(performance.now() - s);
  timings.total = Math.round(performance.now() - T);
  evidence.checks = checks;
  evidence.timingsMs = timings;
  evidence.inputs = inputs;
  evidence.reportSha256 = report.sha256;
  evidence.inconclusive = v.inconclusive;
  if (faceMatch) evidence.faceMatch = faceMatch;
  return { score: v.score, comment: v.comment, reasons: v.reasons, extracted, report: { pdf: report.pdf, sha256: report.sha256, simulated: cfg.simulated }, keyFrames, evidence };
}

export type { DecodedMedia };
