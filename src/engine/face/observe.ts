/**
 * Per-frame face observations: one Human pass (detector + mesh + iris) on every sampled frame,
 * then a second, full pass (embedding, antispoof, liveness) on a few of the most frontal, sharpest
 * frames. Everything downstream (checks, liveness, face match) works on these observations.
 */
import type { RgbFrame } from '../decode.ts';
import type { HumanModels } from '../models/human.ts';
import { blurEffect, grayCrop, laplacianVariance, lumaStats } from '../image.ts';
import { eyeAspectRatio, mouthWidthRatio, interocular, type Pt } from './geometry.ts';

const DEG = 180 / Math.PI;

export interface FaceObservation {
  frame: number;
  t: number;
  faces: number;
  score: number;
  box?: [number, number, number, number];
  /** Degrees; yaw > 0 means the person turned to THEIR left (image right in an unmirrored capture). */
  yaw: number;
  pitch: number;
  roll: number;
  /** Face box fully inside the frame (with a 2 % margin). */
  whole: boolean;
  ear: number;
  mouth: number;
  interocular: number;
  blurVar: number;
  /** Crété-Roffet blur effect of the inner face at ≤ 160 px high (0 sharp … 1 blurred). */
  blur: number;
  luma: number;
  clippedHigh: number;
  mesh?: Pt[];
  embedding?: number[];
  real?: number;
  live?: number;
}

export async function observeFaces(
  frames: RgbFrame[],
  human: HumanModels,
  opts: { minFaceScore: number; fullFrames: number; signal?: AbortSignal },
): Promise<FaceObservation[]> {
  const obs: FaceObservation[] = [];
  for (const f of frames) {
    if (opts.signal?.aborted) throw new Error('aborted');
    const faces = (await human.detect(f, false)).filter((x) => x.score >= opts.minFaceScore);
    obs.push(toObservation(f, faces));
  }
  // full pass on the best frames: frontal, sharp, well spaced in time
  const cands = obs
    .filter((o) => o.faces >= 1 && o.whole)
    .sort(
      (a, b) => Math.abs(a.yaw) + Math.abs(a.pitch) - (Math.abs(b.yaw) + Math.abs(b.pitch)) || b.blurVar - a.blurVar,
    );
  const picked: FaceObservation[] = [];
  for (const c of cands) {
    if (picked.length >= opts.fullFrames) break;
    if (picked.some((p) => Math.abs(p.t - c.t) < 0.4)) continue;
    picked.push(c);
  }
  for (const p of picked) {
    const faces = (await human.detect(frames[p.frame], true)).filter((x) => x.score >= opts.minFaceScore);
    const main = largest(faces);
    if (main) {
      p.embedding = main.embedding;
      p.real = main.real;
      p.live = main.live;
    }
  }
  return obs;
}

function largest<T extends { box: [number, number, number, number] }>(faces: T[]): T | undefined {
  return faces.slice().sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
}

export function toObservation(
  f: RgbFrame,
  faces: {
    score: number;
    box: [number, number, number, number];
    mesh: number[][];
    rotation?: { angle: { roll: number; yaw: number; pitch: number } };
  }[],
): FaceObservation {
  const main = largest(faces);
  const base: FaceObservation = {
    frame: f.index,
    t: f.t,
    faces: faces.length,
    score: 0,
    yaw: NaN,
    pitch: NaN,
    roll: NaN,
    whole: false,
    ear: NaN,
    mouth: NaN,
    interocular: NaN,
    blurVar: NaN,
    blur: NaN,
    luma: NaN,
    clippedHigh: NaN,
  };
  if (!main) {
    const g = grayCrop(f, { x: 0, y: 0, w: f.width, h: f.height }, 120);
    base.luma = lumaStats(g).mean;
    return base;
  }
  const [x, y, w, h] = main.box;
  const mx = 0.02 * f.width;
  const my = 0.02 * f.height;
  const whole = x >= -mx && y >= -my && x + w <= f.width + mx && y + h <= f.height + my;
  const mesh = main.mesh && main.mesh.length >= 468 ? main.mesh : undefined;
  // inner face region (skip hair/background) for blur and exposure
  const inner = { x: x + w * 0.15, y: y + h * 0.1, w: w * 0.7, h: h * 0.8 };
  const g = grayCrop(f, inner, 112);
  const ls = lumaStats(g);
  const a = main.rotation?.angle;
  return {
    ...base,
    score: main.score,
    box: main.box,
    yaw: a ? -a.yaw * DEG : NaN,
    pitch: a ? a.pitch * DEG : NaN,
    roll: a ? a.roll * DEG : NaN,
    whole,
    ear: mesh ? eyeAspectRatio(mesh) : NaN,
    mouth: mesh ? mouthWidthRatio(mesh) : NaN,
    interocular: mesh ? interocular(mesh) : NaN,
    blurVar: laplacianVariance(g),
    blur: blurEffect(grayCrop(f, inner, Math.min(160, Math.round(inner.h)))),
    luma: ls.mean,
    clippedHigh: ls.clippedHigh,
    mesh,
  };
}
