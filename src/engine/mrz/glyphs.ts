/**
 * OCR-B glyph prototypes for the MRZ reader. We render random MRZ-like lines with the OCR-B font
 * (Debian package fonts-ocr-b) through sharp/librsvg at several sizes and blurs, run them through
 * the very same localisation and cell sampling as real images, and average the patches per
 * character and blur level. The font file is a required asset: when it is missing we throw.
 */
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { MRZ_ALPHABET } from './parse.ts';
import { extractCells, locateMrz, PATCH_H, PATCH_W, normalisePatch } from './locate.ts';

export const DEFAULT_OCRB_FONT = '/usr/share/fonts/opentype/ocr-b/OCRB.otf';

export interface GlyphModel {
  /** prototypes[c] = list of normalised patches for MRZ_ALPHABET[c]. */
  prototypes: Float32Array[][];
  font: string;
  samples: number;
}

/** Deterministic PRNG so prototypes are reproducible. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomLine(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += r() < 0.2 ? '<' : MRZ_ALPHABET[Math.floor(r() * 36)];
  return s;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Renders MRZ lines in OCR-B (black on white) as an RGB24 buffer. Used by training and fixtures. */
export async function renderMrzLines(
  lines: string[],
  fontPx: number,
  opts: { blur?: number; padding?: number } = {},
): Promise<{ data: Buffer; width: number; height: number }> {
  const pad = opts.padding ?? fontPx * 2;
  const width = Math.ceil(Math.max(...lines.map((l) => l.length)) * fontPx * 0.8 + 2 * pad);
  const lh = fontPx * 1.75;
  const height = Math.ceil(lines.length * lh + 2 * pad);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>` +
    lines
      .map(
        (l, i) =>
          `<text x="${pad}" y="${pad + (i + 0.8) * lh}" font-family="OCR B" font-size="${fontPx}" fill="#000" xml:space="preserve">${esc(l)}</text>`,
      )
      .join('') +
    '</svg>';
  let img = sharp(Buffer.from(svg)).removeAlpha();
  if (opts.blur && opts.blur >= 0.3) img = img.blur(opts.blur);
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export async function buildGlyphModel(fontPath = DEFAULT_OCRB_FONT): Promise<GlyphModel> {
  if (!existsSync(fontPath))
    throw new Error(`engine: OCR-B font missing at ${fontPath} (install the Debian package fonts-ocr-b)`);
  const r = rng(9303);
  const blurLevels = [0, 0.5, 1.0];
  const sums: Float32Array[][] = blurLevels.map(() =>
    Array.from({ length: MRZ_ALPHABET.length }, () => new Float32Array(PATCH_W * PATCH_H)),
  );
  const counts: number[][] = blurLevels.map(() => new Array(MRZ_ALPHABET.length).fill(0));
  let samples = 0;
  for (const fontPx of [18, 28, 40]) {
    for (let b = 0; b < blurLevels.length; b++) {
      for (let rep = 0; rep < 2; rep++) {
        // make sure every glyph appears: a shuffled alphabet followed by random characters
        const alpha = MRZ_ALPHABET.split('')
          .sort(() => r() - 0.5)
          .join('');
        const lines = [('P' + alpha + randomLine(r, 44)).slice(0, 44), ('1' + randomLine(r, 42) + '8').slice(0, 44)];
        const img = await renderMrzLines(lines, fontPx, { blur: (blurLevels[b] * fontPx) / 14 });
        const loc = locateMrz(img.data, img.width, img.height);
        if (loc?.located.lines.length !== 2 || loc.located.length !== 44) continue;
        loc.located.lines.forEach((ln, li) => {
          const cells = extractCells(loc.gray, ln, 44);
          cells.forEach((p, k) => {
            const c = MRZ_ALPHABET.indexOf(lines[li][k]);
            const s = sums[b][c];
            for (let i = 0; i < p.length; i++) s[i] += p[i];
            counts[b][c]++;
            samples++;
          });
        });
      }
    }
  }
  const prototypes: Float32Array[][] = MRZ_ALPHABET.split('').map(() => []);
  for (let b = 0; b < blurLevels.length; b++) {
    for (let c = 0; c < MRZ_ALPHABET.length; c++) {
      if (counts[b][c] > 0) prototypes[c].push(normalisePatch(sums[b][c].map((v) => v / counts[b][c])));
    }
  }
  const missing = MRZ_ALPHABET.split('').filter((_, c) => prototypes[c].length === 0);
  if (missing.length)
    throw new Error(
      `engine: OCR-B glyph training failed for '${missing.join('')}' (is the font '${fontPath}' visible to fontconfig as "OCR B"?)`,
    );
  return { prototypes, font: fontPath, samples };
}

/** Scores of a patch against every character (max normalised cross-correlation over prototypes). */
export function classify(model: GlyphModel, patch: Float32Array): Float32Array {
  const out = new Float32Array(MRZ_ALPHABET.length);
  const n = patch.length;
  for (let c = 0; c < MRZ_ALPHABET.length; c++) {
    let best = -1;
    for (const p of model.prototypes[c]) {
      // 4 partial sums: the JIT keeps them in registers (this loop is most of the classification time)
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < n; i += 4) {
        s0 += p[i] * patch[i];
        s1 += p[i + 1] * patch[i + 1];
        s2 += p[i + 2] * patch[i + 2];
        s3 += p[i + 3] * patch[i + 3];
      }
      for (; i < n; i++) s0 += p[i] * patch[i];
      const s = s0 + s1 + (s2 + s3);
      if (s > best) best = s;
    }
    out[c] = best;
  }
  return out;
}

/**
 * Below this OCR-B match margin two candidates are close enough for the stroke test to order them:
 * it is what one step of blur mismatch alone costs a glyph (1 − correlation between adjacent blur
 * levels of the same prototype: median 0.042), so a smaller lead is not evidence.
 */
export const STROKE_TIE_MARGIN = 0.05;
/** A missing-ink unit costs a quarter of a stray-ink unit: a stroke with ≥ 20 % (¼ / (1 + ¼)) of its expected contrast counts as present. */
const MISSING_INK_WEIGHT = 0.25;
/** A bar or a leg (≥ ~⅓ of the glyph width) covers ≥ 10 of the 16×24 patch pixels; smaller differences are outline details. */
const MIN_STROKE_PX = 10;
/** Prototype darkness gap (share of the glyph contrast) for a region to be a stroke of one glyph and not blur of the other. */
const MIN_STROKE_GAP = 0.6;

const darknessCache = new WeakMap<Float32Array, Float32Array>();
/** Per-pixel darkness of a patch: 0 at its paper level (max), 1 at its darkest pixel. */
export function darkness(p: Float32Array): Float32Array {
  let d = darknessCache.get(p);
  if (d) return d;
  let mx = -Infinity;
  let mn = Infinity;
  for (const v of p) {
    if (v > mx) mx = v;
    if (v < mn) mn = v;
  }
  const span = mx - mn || 1;
  d = Float32Array.from(p, (v) => (mx - v) / span);
  darknessCache.set(p, d);
  return d;
}

function bestProto(model: GlyphModel, c: number, patch: Float32Array): number {
  let best = -Infinity;
  let bi = 0;
  model.prototypes[c].forEach((p, i) => {
    let s = 0;
    for (let k = 0; k < p.length; k++) s += p[k] * patch[k];
    if (s > best) {
      best = s;
      bi = i;
    }
  });
  return bi;
}

/**
 * Second opinion for two close candidates, from the strokes that tell them apart. Correlation
 * weighs a faint stroke and a missing one almost alike, so a faded or JPEG-smoothed bottom bar turns
 * E into F. Here the regions where only one of the two prototypes has ink (E's bottom bar, R's leg,
 * the strokes of B that 0 lacks) are measured in the patch, as a fraction q of the contrast each
 * prototype expects there (0 = paper, 1 = full stroke). Degradation is asymmetric: print fades, thins
 * and blurs, but blank paper does not darken into a stroke shape. So a candidate pays 1 per unit of
 * ink found where it expects paper and only MISSING_INK_WEIGHT per unit of ink missing where it
 * expects a stroke (paper noise is a few % of the glyph contrast, less averaged over a stroke).
 * Only differences of at least MIN_STROKE_PX pixels and MIN_STROKE_GAP contrast count: smaller ones
 * (D/O corners, 0/O slant, K's stem ends beside a blurred <) are decided by blur and half-pixel
 * misalignment, which the correlation already weighs. Returns true when `b` should rank before `a`.
 */
export function strokesPreferSecond(model: GlyphModel, patch: Float32Array, a: number, b: number): boolean {
  // regions from the two prototypes at the same blur level (the one that matches the top candidate)
  const bi = bestProto(model, a, patch);
  const pa = darkness(model.prototypes[a][bi]);
  const pb = darkness(model.prototypes[b][Math.min(bi, model.prototypes[b].length - 1)]);
  const pd = darkness(patch);
  let nA = 0;
  let oA = 0;
  let eaA = 0;
  let ebA = 0; // ink of a only
  let nB = 0;
  let oB = 0;
  let eaB = 0;
  let ebB = 0; // ink of b only
  for (let i = 0; i < pd.length; i++) {
    if (pa[i] >= 0.5 && pb[i] <= 0.2) {
      nA++;
      oA += pd[i];
      eaA += pa[i];
      ebA += pb[i];
    } else if (pb[i] >= 0.5 && pa[i] <= 0.2) {
      nB++;
      oB += pd[i];
      eaB += pa[i];
      ebB += pb[i];
    }
  }
  // a region where the two prototypes differ by less than MIN_STROKE_GAP of the glyph contrast is
  // blur of the shared strokes (e.g. K's stem ends beside the tip of a blurred <), not a stroke
  if (nA && (eaA - ebA) / nA < MIN_STROKE_GAP) nA = 0;
  if (nB && (ebB - eaB) / nB < MIN_STROKE_GAP) nB = 0;
  if (Math.max(nA, nB) < MIN_STROKE_PX) return false;
  const frac = (o: number, paper: number, ink: number) =>
    ink > paper ? Math.min(1, Math.max(0, (o - paper) / (ink - paper))) : 0;
  const qA = nA ? frac(oA, ebA, eaA) : 0;
  const qB = nB ? frac(oB, eaB, ebB) : 0;
  const costA = MISSING_INK_WEIGHT * (1 - qA) * nA + qB * nB;
  const costB = MISSING_INK_WEIGHT * (1 - qB) * nB + qA * nA;
  return costB < costA;
}
