/**
 * Face alignment for recognition models: the 5 ArcFace landmarks (eye centres, nose tip, mouth
 * corners) are taken from Human's 468-point mesh, a least-squares similarity transform (Umeyama,
 * no reflection) maps them onto the standard InsightFace 112×112 template, and the frame is
 * resampled bilinearly into that canonical crop. This is the alignment ArcFace-family models
 * (MobileFaceNet, InsightFace) are trained with; an unaligned box crop costs them accuracy.
 */
import type { RgbFrame } from '../decode.ts';

export type P2 = [number, number];

/** InsightFace/ArcFace reference landmarks for a 112×112 crop (image-left eye first). */
export const ARCFACE_TEMPLATE_112: P2[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

// MediaPipe face-mesh indices: eye contours (subject's right eye = image left), nose tip, mouth corners
const EYE_IMG_LEFT = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246];
const EYE_IMG_RIGHT = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466];
const NOSE_TIP = 1;
const MOUTH_IMG_LEFT = 61;
const MOUTH_IMG_RIGHT = 291;

function mean(mesh: ArrayLike<number>[], idx: number[]): P2 {
  let x = 0;
  let y = 0;
  for (const i of idx) {
    x += mesh[i][0];
    y += mesh[i][1];
  }
  return [x / idx.length, y / idx.length];
}

/** The 5 alignment landmarks from a 468-point mesh (frame pixel coordinates), template order. */
export function fivePoints(mesh: ArrayLike<number>[]): P2[] {
  if (mesh.length < 468) throw new Error(`face align: mesh has ${mesh.length} points, 468 needed`);
  const p = (i: number): P2 => [mesh[i][0], mesh[i][1]];
  return [mean(mesh, EYE_IMG_LEFT), mean(mesh, EYE_IMG_RIGHT), p(NOSE_TIP), p(MOUTH_IMG_LEFT), p(MOUTH_IMG_RIGHT)];
}

/**
 * Least-squares similarity transform (scale s, rotation, translation) mapping src → dst.
 * Returns [a, b, tx, ty] with dst ≈ [a -b; b a]·src + t.
 */
export function similarity(src: P2[], dst: P2[]): [number, number, number, number] {
  const n = src.length;
  let sx = 0;
  let sy = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i][0];
    sy += src[i][1];
    dx += dst[i][0];
    dy += dst[i][1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let num1 = 0;
  let num2 = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const ux = src[i][0] - sx;
    const uy = src[i][1] - sy;
    const vx = dst[i][0] - dx;
    const vy = dst[i][1] - dy;
    num1 += ux * vx + uy * vy;
    num2 += ux * vy - uy * vx;
    den += ux * ux + uy * uy;
  }
  if (den <= 0) throw new Error('face align: degenerate landmarks');
  const a = num1 / den;
  const b = num2 / den;
  return [a, b, dx - (a * sx - b * sy), dy - (b * sx + a * sy)];
}

/**
 * Canonical crop: for every output pixel, the inverse of the similarity gives the source position,
 * sampled bilinearly (edge pixels replicated). Output RGB24, size×size.
 */
export function warpSimilarity(
  frame: RgbFrame,
  t: [number, number, number, number],
  size: number,
  outScale = 1,
): Uint8Array {
  const [a, b, tx, ty] = t;
  const det = a * a + b * b;
  // inverse: src = [a b; -b a]/det · (dst - t)
  const ia = a / det;
  const ib = b / det;
  const out = new Uint8Array(size * size * 3);
  const W = frame.width;
  const H = frame.height;
  const d = frame.data;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const qx = (x + 0.5) / outScale - 0.5 - tx;
      const qy = (y + 0.5) / outScale - 0.5 - ty;
      let u = ia * qx + ib * qy;
      let v = -ib * qx + ia * qy;
      u = Math.min(W - 1, Math.max(0, u));
      v = Math.min(H - 1, Math.max(0, v));
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const x1 = Math.min(W - 1, x0 + 1);
      const y1 = Math.min(H - 1, y0 + 1);
      const fx = u - x0;
      const fy = v - y0;
      const o = (y * size + x) * 3;
      const i00 = (y0 * W + x0) * 3;
      const i01 = (y0 * W + x1) * 3;
      const i10 = (y1 * W + x0) * 3;
      const i11 = (y1 * W + x1) * 3;
      for (let c = 0; c < 3; c++) {
        const top = d[i00 + c] + (d[i01 + c] - d[i00 + c]) * fx;
        const bot = d[i10 + c] + (d[i11 + c] - d[i10 + c]) * fx;
        out[o + c] = Math.round(top + (bot - top) * fy);
      }
    }
  }
  return out;
}

/** Aligned ArcFace crop (size 112 → the template as is; other sizes scale the template). */
export function alignedCrop(frame: RgbFrame, mesh: ArrayLike<number>[], size = 112): Uint8Array {
  const t = similarity(fivePoints(mesh), ARCFACE_TEMPLATE_112);
  return warpSimilarity(frame, t, size, size / 112);
}
