/**
 * Screen replay signs (2202): a document shown on a display and filmed carries the display's pixel
 * lattice (or its moiré with the camera's sensor): a 2-D periodic pattern, i.e. isolated spectral
 * peaks in at least two directions, high above the broadband spectrum of paper, print and text.
 *
 * Measured per frame on tiles of the document's inner region at native resolution (resampling would
 * erase the lattice): the power spectra of the tiles (Hann window) are averaged, and each frequency
 * is compared with the median power of its ring (same spatial frequency, all directions). Frequencies
 * on the 8-pixel grid of block codecs (JPEG, H.264: blocks aligned with the frame) are ignored: those
 * peaks come from compression, not from the scene. A screen's lattice is not aligned with the frame
 * (the document moves and tilts), so it cannot hide there for long.
 */
import type { RgbFrame } from '../decode.ts';
import { clampRect, median, type Rect } from '../image.ts';

const N = 128; // tile size (a power of two): resolves periods from 2 px to ~20 px in the band we look at

export interface SpectralPeak {
  fx: number;
  fy: number;
  ratio: number;
  angleDeg: number;
}
export interface ScreenSignature {
  tiles: number;
  /** Strongest peak / ring median in the band, any direction. */
  maxRatio: number;
  /** The strongest isolated peaks (one per direction) above the peak threshold. */
  peaks: SpectralPeak[];
  /**
   * Strength of a 2-D lattice: the ratio of the strongest peak whose direction differs by ≥ 30° from
   * the strongest one (0 without one). Paper, print and text give lines in one direction or weak
   * ones; a display's pixel grid gives strong lines in two.
   */
  latticeRatio: number;
}

/** In-place iterative radix-2 FFT of length N. */
function fft(re: Float64Array, im: Float64Array, cos: Float64Array, sin: Float64Array): void {
  for (let i = 1, j = 0; i < N; i++) {
    let bit = N >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  for (let len = 2; len <= N; len <<= 1) {
    const step = N / len;
    for (let i = 0; i < N; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = cos[k * step];
        const wi = -sin[k * step];
        const a = i + k;
        const b = a + len / 2;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

/** Power spectrum of one N×N luma tile (mean removed, Hann window), row-major, DC at index 0. */
function tileSpectrum(
  f: RgbFrame,
  x0: number,
  y0: number,
  tw: { cos: Float64Array; sin: Float64Array; hann: Float64Array },
): Float64Array {
  const re = new Float64Array(N * N);
  const im = new Float64Array(N * N);
  let mean = 0;
  for (let y = 0; y < N; y++)
    for (let x = 0; x < N; x++) {
      const p = ((y0 + y) * f.width + x0 + x) * 3;
      const v = 0.299 * f.data[p] + 0.587 * f.data[p + 1] + 0.114 * f.data[p + 2];
      re[y * N + x] = v;
      mean += v;
    }
  mean /= N * N;
  for (let y = 0; y < N; y++)
    for (let x = 0; x < N; x++) re[y * N + x] = (re[y * N + x] - mean) * tw.hann[x] * tw.hann[y];
  const rr = new Float64Array(N);
  const ri = new Float64Array(N);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      rr[x] = re[y * N + x];
      ri[x] = im[y * N + x];
    }
    fft(rr, ri, tw.cos, tw.sin);
    for (let x = 0; x < N; x++) {
      re[y * N + x] = rr[x];
      im[y * N + x] = ri[x];
    }
  }
  for (let x = 0; x < N; x++) {
    for (let y = 0; y < N; y++) {
      rr[y] = re[y * N + x];
      ri[y] = im[y * N + x];
    }
    fft(rr, ri, tw.cos, tw.sin);
    for (let y = 0; y < N; y++) {
      re[y * N + x] = rr[y];
      im[y * N + x] = ri[y];
    }
  }
  const pow = new Float64Array(N * N);
  for (let i = 0; i < N * N; i++) pow[i] = re[i] * re[i] + im[i] * im[i];
  return pow;
}

let twiddles: { cos: Float64Array; sin: Float64Array; hann: Float64Array } | undefined;
function tw() {
  // constant tables (pure data, not model state)
  if (!twiddles) {
    const cos = new Float64Array(N);
    const sin = new Float64Array(N);
    const hann = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      cos[i] = Math.cos((2 * Math.PI * i) / N);
      sin[i] = Math.sin((2 * Math.PI * i) / N);
      hann[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (N - 1));
    }
    twiddles = { cos, sin, hann };
  }
  return twiddles;
}

export interface ScreenOptions {
  /** Band of spatial frequencies searched (cycles/pixel). Below: document content (text, photo). */
  minFreq: number;
  /** Peak power / ring median that counts as a periodic component. */
  minPeakRatio: number;
}

/**
 * Spectral signature of the document's inner region (central 60 % of `region`) of one frame, from up
 * to 4 tiles of 128×128 px. Null when the region is too small to hold one tile.
 */
export function screenSignature(f: RgbFrame, region: Rect, opts: ScreenOptions): ScreenSignature | null {
  const inner = clampRect(
    { x: region.x + region.w * 0.2, y: region.y + region.h * 0.2, w: region.w * 0.6, h: region.h * 0.6 },
    f.width,
    f.height,
  );
  if (inner.w < N || inner.h < N) return null;
  const nx = Math.min(2, Math.floor(inner.w / N));
  const ny = Math.min(2, Math.floor(inner.h / N));
  const t = tw();
  const avg = new Float64Array(N * N);
  let tiles = 0;
  for (let j = 0; j < ny; j++)
    for (let i = 0; i < nx; i++) {
      const x0 = Math.round(inner.x + (nx === 1 ? (inner.w - N) / 2 : i * (inner.w - N)));
      const y0 = Math.round(inner.y + (ny === 1 ? (inner.h - N) / 2 : j * (inner.h - N)));
      const p = tileSpectrum(f, x0, y0, t);
      for (let k = 0; k < p.length; k++) avg[k] += p[k];
      tiles++;
    }
  // ring medians: radius in bins (half-plane is enough: the spectrum of a real image is symmetric)
  const half = N / 2;
  const rings: number[][] = Array.from({ length: half + 1 }, () => []);
  const freq = (k: number) => (k <= half ? k : k - N);
  for (let v = 0; v <= half; v++)
    for (let u = 0; u < N; u++) {
      const r = Math.round(Math.hypot(freq(u), v));
      if (r <= half) rings[r].push(avg[v * N + u]);
    }
  const ringMedian = rings.map(median);
  const onCodecGrid = (k: number) => {
    const m = ((k % 16) + 16) % 16;
    return m <= 1 || m >= 15;
  };
  const cands: SpectralPeak[] = [];
  let maxRatio = 0;
  const minR = Math.ceil(opts.minFreq * N);
  for (let v = 0; v <= half; v++)
    for (let u = 0; u < N; u++) {
      const fu = freq(u);
      if (v === 0 && fu < 0) continue;
      const r = Math.round(Math.hypot(fu, v));
      if (r < minR || r > half) continue;
      if (onCodecGrid(fu) && onCodecGrid(v)) continue;
      const pw = avg[v * N + u];
      const ratio = pw / Math.max(ringMedian[r], 1e-9);
      if (ratio > maxRatio) maxRatio = ratio;
      if (ratio < opts.minPeakRatio) continue;
      // a local maximum among its 8 neighbours (one peak per spectral line)
      let isMax = true;
      for (let dv = -1; dv <= 1 && isMax; dv++)
        for (let du = -1; du <= 1; du++) {
          if (!du && !dv) continue;
          const vv = v + dv;
          const uu = (u + du + N) % N;
          if (vv < 0 || vv > half) continue;
          if (avg[vv * N + uu] > pw) {
            isMax = false;
            break;
          }
        }
      if (isMax) cands.push({ fx: fu / N, fy: v / N, ratio, angleDeg: (Math.atan2(v, fu) * 180) / Math.PI });
    }
  cands.sort((a, b) => b.ratio - a.ratio);
  const peaks: SpectralPeak[] = [];
  for (const c of cands) {
    if (peaks.length >= 4) break;
    if (peaks.some((p) => angleDiff(p.angleDeg, c.angleDeg) < 10)) continue;
    peaks.push(c);
  }
  const second = peaks.find((p) => angleDiff(p.angleDeg, peaks[0].angleDeg) >= 30);
  return { tiles, maxRatio, peaks, latticeRatio: second?.ratio ?? 0 };
}

/** Difference between two line directions (degrees, modulo 180). */
function angleDiff(a: number, b: number): number {
  const d = Math.abs(a - b) % 180;
  return Math.min(d, 180 - d);
}
