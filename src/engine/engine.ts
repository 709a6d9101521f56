/**
 * The analysis engine: `createEngine(config)` loads every model once (Human on WASM, OpenCV,
 * OCR-B glyph prototypes) and returns an `Analyzer` that turns a capture session into a verdict
 * with evidence and a synthesis report. Analyses on one engine run one at a time (the models are
 * single-threaded WASM; parallelism is one engine per worker process).
 */
import { accessSync, constants } from 'node:fs';
import type { AnalysisInput, AnalysisResult, Analyzer } from '../app/ports.ts';
import { assembleResult, type EngineInfo, type PartFailure } from './assemble.ts';
import { resolveEngineConfig, type EngineConfig, type EngineConfigInput } from './config.ts';
import type { DecodedMedia } from './decode.ts';
import { loadHuman } from './models/human.ts';
import { loadOpenCv } from './models/opencv.ts';
import { buildGlyphModel } from './mrz/glyphs.ts';
import {
  analyseDocumentPart,
  analyseFacePart,
  decodeFor,
  isFaceMedium,
  type DocumentPart,
  type EngineModels,
  type FacePart,
  type PartInput,
} from './parts.ts';

export const ENGINE_NAME = 'kyclive-engine';
export const ENGINE_VERSION = '0.1.0';

export interface Engine extends Analyzer {
  readonly name: string;
  readonly config: EngineConfig;
  readonly info: EngineInfo;
  /** The whole session in this process: the two parts one after the other, then the verdict. */
  analyze(input: AnalysisInput): Promise<AnalysisResult>;
  /** One half of a session (the pool runs the two halves in different processes). */
  analyzePart(kind: 'face' | 'document', input: PartInput, signal?: AbortSignal): Promise<FacePart | DocumentPart>;
  close(): Promise<void>;
}

export async function createEngine(config: EngineConfigInput = {}): Promise<Engine> {
  const cfg = resolveEngineConfig(config);
  const t0 = performance.now();
  // a missing decoder must not turn into "your video cannot be played" (1911) for every user
  for (const bin of [cfg.ffmpegPath, cfg.ffmpegPath.replace(/ffmpeg$/, 'ffprobe')]) {
    try {
      accessSync(bin, constants.X_OK);
    } catch {
      throw new Error(`engine: ${bin} not found or not executable (install the Debian package ffmpeg)`);
    }
  }
  const human = await loadHuman({
    modelsDir: cfg.humanModelsDir,
    wasmDir: cfg.wasmDir,
    faceApiModelsDir: cfg.faceApiModelsDir,
  });
  const { cv, version: cvVersion } = await loadOpenCv();
  const glyphs = await buildGlyphModel(cfg.ocrbFontPath);
  const models: EngineModels = { human, cv, cvVersion, glyphs };
  const info: EngineInfo = {
    name: ENGINE_NAME,
    version: ENGINE_VERSION,
    modelLoadMs: performance.now() - t0,
    models: [
      ...human.versions,
      { name: '@techstark/opencv-js', version: cvVersion },
      { name: 'ocr-b glyph prototypes', version: `font ${glyphs.font}, ${glyphs.samples} samples` },
    ],
  };
  // analyses on one engine are serialised: the WASM models are single-threaded
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  const serial = <X>(fn: () => Promise<X>): Promise<X> => {
    if (closed) return Promise.reject(new Error('engine closed'));
    const run = chain.then(fn);
    chain = run.catch(() => undefined);
    return run;
  };
  const part = (kind: 'face' | 'document', input: PartInput, signal?: AbortSignal): Promise<FacePart | DocumentPart> =>
    kind === 'face' ? analyseFacePart(models, cfg, input, signal) : analyseDocumentPart(models, cfg, input, signal);
  return {
    name: ENGINE_NAME,
    config: cfg,
    info,
    analyze(input) {
      return serial(async () => {
        const startedAt = performance.now();
        const { signal, ...plain } = input;
        // the face video decodes (ffmpeg, another process) while the last document medium is analysed
        let faceDecodes: Promise<DecodedMedia>[] | undefined;
        const startFaceDecodes = () => {
          if (faceDecodes) return;
          faceDecodes = plain.media.filter(isFaceMedium).map((m) => decodeFor(cfg, m, signal));
          for (const p of faceDecodes) p.catch(() => undefined); // awaited by the face part
        };
        const caught = <X>(p: Promise<X>): Promise<X | PartFailure> =>
          p.catch((e: Error) => {
            if (signal?.aborted) throw e;
            return { error: e.message };
          });
        const doc = await caught(analyseDocumentPart(models, cfg, plain, signal, startFaceDecodes));
        startFaceDecodes();
        const face = await caught(analyseFacePart(models, cfg, plain, signal, faceDecodes));
        return assembleResult(cfg, info, plain, face, doc, { startedAt });
      });
    },
    analyzePart(kind, input, signal) {
      return serial(() => part(kind, input, signal));
    },
    async close() {
      closed = true;
      await chain;
      await human.dispose();
    },
  };
}

export type { DecodedMedia };
