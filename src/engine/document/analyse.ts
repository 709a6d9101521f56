/**
 * Per-medium document analysis: quadrilateral per frame, sharpness and colour of the document
 * region, MRZ reads on the sharpest frames, and the portrait (Human full pass) for face matching.
 */
import sharp from 'sharp';
import type { DecodedMedia, RgbFrame } from '../decode.ts';
import type { CV } from '../models/opencv.ts';
import type { HumanModels } from '../models/human.ts';
import type { GlyphModel } from '../mrz/glyphs.ts';
import { readMrzInFrame, type FrameMrzRead } from '../mrz/read.ts';
import { blurEffect, grayCrop, laplacianVariance, meanSaturation, type Rect } from '../image.ts';
import { detectQuad, type Quad } from './quad.ts';
import { screenSignature, type ScreenSignature } from './screen.ts';
import { readVizLines, type VizLine } from './viz-number.ts';

export interface DocFrameObs {
  frame: number;
  t: number;
  quad: Quad | null;
  region: Rect;
  blurVar: number;
  /** Crété-Roffet blur effect of the document region (0 sharp … 1 blurred). */
  blur: number;
  saturation: number;
  sceneSaturation: number;
}

export interface PortraitObs {
  frame: number;
  embedding: number[];
  box: [number, number, number, number];
  score: number;
  real?: number;
}

export interface DocumentMediumAnalysis {
  step: string;
  frames: DocFrameObs[];
  mrzReads: FrameMrzRead[];
  mrzFramesTried: number[];
  portrait: PortraitObs | null;
  /** Portrait box area / document region area (an ID photo is a small part of the document). */
  portraitShare: number | null;
  /** Index of the best key frame (sharpest with a quad, else sharpest). */
  keyFrame: number;
  /** Front only: short text lines of the visual zone (document number vs MRZ, 2303), 2 sharpest MRZ frames. */
  vizLines: VizLine[];
  /** Screen replay signature (2202) of the frames read for the MRZ (sharpest, spread in time). */
  screen: ({ frame: number } & ScreenSignature)[];
}

const PORTRAIT_MAX_SIDE = 720;

/** The frame scaled so its longer side is at most maxSide (area filter); the frame itself when smaller. */
async function downscale(f: RgbFrame, maxSide: number): Promise<RgbFrame> {
  if (Math.max(f.width, f.height) <= maxSide) return f;
  const { data, info } = await sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } })
    .resize({ width: maxSide, height: maxSide, fit: 'inside', kernel: 'cubic' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data, t: f.t, index: f.index };
}

/** Copy of a region of a frame (with a relative margin), even-sized. */
export function cropFrame(f: RgbFrame, r: Rect, margin: number): RgbFrame {
  const x0 = Math.max(0, Math.floor(r.x - r.w * margin));
  const y0 = Math.max(0, Math.floor(r.y - r.h * margin));
  const x1 = Math.min(f.width, Math.ceil(r.x + r.w * (1 + margin)));
  const y1 = Math.min(f.height, Math.ceil(r.y + r.h * (1 + margin)));
  const w = Math.max(2, (x1 - x0) & ~1);
  const h = Math.max(2, (y1 - y0) & ~1);
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    f.data.copy(data, y * w * 3, ((y0 + y) * f.width + x0) * 3, ((y0 + y) * f.width + x0 + w) * 3);
  return { width: w, height: h, data, t: f.t, index: f.index };
}

function bbox(q: Quad, W: number, H: number): Rect {
  const xs = q.corners.map((p) => p[0]);
  const ys = q.corners.map((p) => p[1]);
  const x = Math.max(0, Math.min(...xs));
  const y = Math.max(0, Math.min(...ys));
  return { x, y, w: Math.min(W, Math.max(...xs)) - x, h: Math.min(H, Math.max(...ys)) - y };
}

export async function analyseDocumentMedium(
  step: string,
  media: DecodedMedia,
  deps: {
    cv: CV;
    human: HumanModels;
    glyphs: GlyphModel;
    minFaceScore: number;
    mrzFrames: number;
    portraitFrames: number;
    screenMinFreq: number;
    screenMinPeakRatio: number;
    signal?: AbortSignal;
  },
): Promise<DocumentMediumAnalysis> {
  const frames: DocFrameObs[] = [];
  for (const f of media.frames) {
    if (deps.signal?.aborted) throw new Error('aborted');
    const quad = detectQuad(deps.cv, f);
    const region = quad ? bbox(quad, f.width, f.height) : { x: 0, y: 0, w: f.width, h: f.height };
    const g = grayCrop(f, region, Math.min(480, Math.round(region.h)));
    frames.push({
      frame: f.index,
      t: f.t,
      quad,
      region,
      blurVar: laplacianVariance(g),
      blur: blurEffect(g),
      // chroma of the document's inner part (the bbox corners may hold background under perspective)
      saturation: meanSaturation(
        f,
        { x: region.x + region.w * 0.2, y: region.y + region.h * 0.2, w: region.w * 0.6, h: region.h * 0.6 },
        3,
      ).p90,
      sceneSaturation: meanSaturation(f, { x: 0, y: 0, w: f.width, h: f.height }, 4).p90,
    });
  }
  const bySharp = frames.slice().sort((a, b) => b.blurVar - a.blurVar);
  const withQuad = bySharp.filter((o) => o.quad && !o.quad.touchesBorder);
  const keyFrame = (withQuad[0] ?? bySharp[0])?.frame ?? 0;
  // MRZ: sharpest frames first, spread in time
  const tried: number[] = [];
  const reads: FrameMrzRead[] = [];
  for (const o of bySharp) {
    if (tried.length >= deps.mrzFrames) break;
    if (tried.some((i) => Math.abs(media.frames[i].t - o.t) < 0.3)) continue;
    tried.push(o.frame);
    const r = readMrzInFrame(deps.glyphs, media.frames[o.frame]);
    if (r) reads.push(r);
  }
  // the front's visual zone, for its printed document number
  const vizLines =
    step === 'document_front' ? tried.slice(0, 2).flatMap((i) => readVizLines(deps.glyphs, media.frames[i])) : [];
  // screen signs on the same frames: the document region at native resolution (stills: whole image)
  const screen: DocumentMediumAnalysis['screen'] = [];
  for (const i of tried) {
    const o = frames[i];
    if (!o.quad && media.kind !== 'still') continue;
    const sig = screenSignature(media.frames[i], o.region, {
      minFreq: deps.screenMinFreq,
      minPeakRatio: deps.screenMinPeakRatio,
    });
    if (sig)
      screen.push({
        frame: i,
        ...sig,
        maxRatio: Math.round(sig.maxRatio),
        latticeRatio: Math.round(sig.latticeRatio),
        peaks: sig.peaks.map((p) => ({
          ...p,
          ratio: Math.round(p.ratio),
          fx: Math.round(p.fx * 1000) / 1000,
          fy: Math.round(p.fy * 1000) / 1000,
          angleDeg: Math.round(p.angleDeg),
        })),
      });
  }
  // portrait: largest face on the sharpest frames
  let portrait: PortraitObs | null = null;
  let portraitShare: number | null = null;
  for (const o of bySharp.slice(0, deps.portraitFrames)) {
    // the portrait lies on the document: analyse the document region only, at most PORTRAIT_MAX_SIDE
    // px (an ID photo is a fifth of the card: still > 150 px, the face chip's size); large inputs
    // grow the WASM heaps for good (measured: +170 MB at 1280 px)
    const crop: RgbFrame = o.quad ? cropFrame(media.frames[o.frame], o.region, 0.05) : media.frames[o.frame];
    const f = await downscale(crop, PORTRAIT_MAX_SIDE);
    const k = crop.width / f.width;
    const faces = (await deps.human.detect(f, true)).filter((x) => x.score >= deps.minFaceScore && x.embedding?.length);
    const main = faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
    if (main && (!portrait || main.score > portrait.score)) {
      const box = main.box.map((v) => v * k) as [number, number, number, number];
      portrait = { frame: o.frame, embedding: main.embedding!, box, score: main.score, real: main.real };
      portraitShare = (box[2] * box[3]) / Math.max(1, o.region.w * o.region.h);
    }
  }
  return { step, frames, mrzReads: reads, mrzFramesTried: tried, portrait, portraitShare, keyFrame, screen, vizLines };
}
