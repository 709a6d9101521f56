/** Small pixel utilities over RGB24 frames (pure TypeScript, no model). */
import type { RgbFrame } from './decode.ts';

export interface Gray {
  width: number;
  height: number;
  data: Float32Array;
}
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function clampRect(r: Rect, W: number, H: number): Rect {
  const x = Math.max(0, Math.floor(r.x));
  const y = Math.max(0, Math.floor(r.y));
  const x2 = Math.min(W, Math.ceil(r.x + r.w));
  const y2 = Math.min(H, Math.ceil(r.y + r.h));
  return { x, y, w: Math.max(0, x2 - x), h: Math.max(0, y2 - y) };
}

/** Grey (BT.601 luma) of a region, resampled (area average) so the region's height becomes outH (keeps aspect). */
export function grayCrop(f: RgbFrame, r0: Rect, outH?: number): Gray {
  const r = clampRect(r0, f.width, f.height);
  const scale = outH && r.h > 0 ? outH / r.h : 1;
  const ow = Math.max(1, Math.round(r.w * scale));
  const oh = Math.max(1, Math.round(r.h * scale));
  const out = new Float32Array(ow * oh);
  const cnt = new Uint32Array(ow * oh);
  // the source→output column map is the same for every row: compute it once (this runs on every frame)
  const colMap = new Int32Array(r.w);
  for (let x = 0; x < r.w; x++) colMap[x] = Math.min(ow - 1, Math.floor(x * scale));
  const d = f.data;
  for (let y = 0; y < r.h; y++) {
    const row = Math.min(oh - 1, Math.floor(y * scale)) * ow;
    let p = ((r.y + y) * f.width + r.x) * 3;
    for (let x = 0; x < r.w; x++, p += 3) {
      const i = row + colMap[x];
      out[i] += 0.299 * d[p] + 0.587 * d[p + 1] + 0.114 * d[p + 2];
      cnt[i]++;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = cnt[i] ? out[i] / cnt[i] : 0;
  return { width: ow, height: oh, data: out };
}

/** Variance of the 4-neighbour Laplacian: the classic focus measure (Pech-Pacheco et al. 2000). */
export function laplacianVariance(g: Gray): number {
  const { width: w, height: h, data } = g;
  if (w < 3 || h < 3) return 0;
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const v = data[i - 1] + data[i + 1] + data[i - w] + data[i + w] - 4 * data[i];
      s += v;
      s2 += v * v;
      n++;
    }
  }
  const m = s / n;
  return s2 / n - m * m;
}

export function lumaStats(g: Gray): { mean: number; clippedHigh: number; clippedLow: number } {
  let s = 0;
  let hi = 0;
  let lo = 0;
  for (const v of g.data) {
    s += v;
    if (v >= 250) hi++;
    if (v <= 5) lo++;
  }
  const n = g.data.length || 1;
  return { mean: s / n, clippedHigh: hi / n, clippedLow: lo / n };
}

const SAT_BINS = 1024;

/**
 * Mean and 90th percentile of HSV saturation (0-1) of a region, ignoring near-black and near-white
 * pixels where hue is meaningless. The percentile comes from a 1/1024-wide histogram (error < 0.001,
 * far below any threshold on it) instead of sorting every sampled pixel: this runs twice per frame.
 */
export function meanSaturation(f: RgbFrame, r0: Rect, step = 2): { mean: number; p90: number } {
  const r = clampRect(r0, f.width, f.height);
  const hist = new Uint32Array(SAT_BINS);
  let n = 0;
  let sum = 0;
  const d = f.data;
  for (let y = r.y; y < r.y + r.h; y += step) {
    let p = (y * f.width + r.x) * 3;
    for (let x = r.x; x < r.x + r.w; x += step, p += 3 * step) {
      const R = d[p];
      const G = d[p + 1];
      const B = d[p + 2];
      const mx = R > G ? Math.max(R, B) : Math.max(G, B);
      const mn = R < G ? Math.min(R, B) : Math.min(G, B);
      if (mx < 40 || mn > 245) continue;
      const v = (mx - mn) / mx;
      sum += v;
      n++;
      hist[Math.min(SAT_BINS - 1, Math.floor(v * SAT_BINS))]++;
    }
  }
  if (!n) return { mean: 0, p90: 0 };
  // same rank as sorting and taking index floor(0.9 n)
  const rank = Math.floor(n * 0.9);
  let acc = 0;
  let bin = 0;
  for (; bin < SAT_BINS; bin++) {
    acc += hist[bin];
    if (acc > rank) break;
  }
  return { mean: sum / n, p90: (bin + 0.5) / SAT_BINS };
}

export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round((s.length - 1) * p)))];
}

export function median(xs: number[]): number {
  return percentile(xs, 0.5);
}

/**
 * No-reference blur metric of Crété-Roffet et al. (2007, "The blur effect"): re-blur the image with a
 * 9-tap box filter and measure how much of its neighbour differences survive. A sharp image loses a
 * lot (metric near 0.2-0.35), an already blurred one barely changes (→ 1). Contrast-independent, so
 * one threshold works across faces, skin tones and documents.
 */
export function blurEffect(g: Gray): number {
  const { width: w, height: h, data } = g;
  if (w < 12 || h < 12) return 1;
  // 9-tap box filters with edge clamping, as running sums (O(1) per pixel instead of 18 reads)
  const bv = new Float32Array(w * h);
  const bh = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let s = 0;
    for (let k = -4; k <= 4; k++) s += data[row + Math.min(w - 1, Math.max(0, k))];
    for (let x = 0; x < w; x++) {
      bh[row + x] = s / 9;
      s += data[row + Math.min(w - 1, x + 5)] - data[row + Math.max(0, x - 4)];
    }
  }
  for (let x = 0; x < w; x++) {
    let s = 0;
    for (let k = -4; k <= 4; k++) s += data[Math.min(h - 1, Math.max(0, k)) * w + x];
    for (let y = 0; y < h; y++) {
      bv[y * w + x] = s / 9;
      s += data[Math.min(h - 1, y + 5) * w + x] - data[Math.max(0, y - 4) * w + x];
    }
  }
  let sFv = 0;
  let sVv = 0;
  let sFh = 0;
  let sVh = 0;
  for (let y = 1; y < h; y++)
    for (let x = 1; x < w; x++) {
      const i = y * w + x;
      const dFv = Math.abs(data[i] - data[i - w]);
      const dBv = Math.abs(bv[i] - bv[i - w]);
      const dFh = Math.abs(data[i] - data[i - 1]);
      const dBh = Math.abs(bh[i] - bh[i - 1]);
      sFv += dFv;
      sVv += Math.max(0, dFv - dBv);
      sFh += dFh;
      sVh += Math.max(0, dFh - dBh);
    }
  const bV = sFv > 0 ? (sFv - sVv) / sFv : 1;
  const bH = sFh > 0 ? (sFh - sVh) / sFh : 1;
  return Math.max(bV, bH);
}
