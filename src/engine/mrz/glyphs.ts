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
function rng(seed: number) { let s = seed >>> 0; return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; }; }

function randomLine(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += r() < 0.2 ? '<' : MRZ_ALPHABET[Math.floor(r() * 36)];
  return s;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Renders MRZ lines in OCR-B (black on white) as an RGB24 buffer. Used by training and fixtures. */
export async function renderMrzLines(lines: string[], fontPx: number, opts: { blur?: number; padding?: number } = {}): Promise<{ data: Buffer; width: number; height: number }> {
  const pad = opts.padding ?? fontPx * 2;
  const width = Math.ceil(Math.max(...lines.map((l) => l.length)) * fontPx * 0.8 + 2 * pad);
  const lh = fontPx * 1.75;
  const height = Math.ceil(lines.length * lh + 2 * pad);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>` +
    lines.map((l, i) => `<text x="${pad}" y="${pad + (i + 0.8) * lh}" font-family="OCR B" font-size="${fontPx}" fill="#000" xml:space="preserve">${esc(l)}</text>`).join('') + '</svg>';
  let img = sharp(Buffer.from(svg)).removeAlpha();
  if (opts.blur && opts.blur >= 0.3) img = img.blur(opts.blur);
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export async function buildGlyphModel(fontPath = DEFAULT_OCRB_FONT): Promise<GlyphModel> {
  if (!existsSync(fontPath)) throw new Error(`engine: OCR-B font missing at ${fontPath} (install the Debian package fonts-ocr-b)`);
  const r = rng(9303);
  const blurLevels = [0, 0.5, 1.0];
  const sums: Float32Array[][] = blurLevels.map(() => Array.from({ length: MRZ_ALPHABET.length }, () => new Float32Array(PATCH_W * PATCH_H)));
  const counts: number[][] = blurLevels.map(() => new Array(MRZ_ALPHABET.length).fill(0));
  let samples = 0;
  for (const fontPx of [18, 28, 40]) {
    for (let b = 0; b < blurLevels.length; b++) {
      for (let rep = 0; rep < 2; rep++) {
        // make sure every glyph appears: a shuffled alphabet followed by random characters
        const alpha = MRZ_ALPHABET.split('').sort(() => r() - 0.5).join('');
        const lines = [('P' + alpha + randomLine(r, 44)).slice(0, 44), ('1' + randomLine(r, 42) + '8').slice(0, 44)];
        const img = await renderMrzLines(lines, fontPx, { blur: blurLevels[b] * fontPx / 14 });
        const loc = locateMrz(img.data, img.width, img.height);
        if (!loc || loc.located.lines.length !== 2 || loc.located.length !== 44) continue;
        loc.located.lines.forEach((ln, li) => {
          const cells = extractCells(loc.gray, ln, 44);
          cells.forEach((p, k) => {
            const c = MRZ_ALPHABET.indexOf(lines[li][k]);
            const s = sums[b][c];
            for (let i = 0; i < p.length; i++) s[i] += p[i];
            counts[b][c]++; samples++;
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
  if (missing.length) throw new Error(`engine: OCR-B glyph training failed for '${missing.join('')}' (is the font '${fontPath}' visible to fontconfig as "OCR B"?)`);
  return { prototypes, font: fontPath, samples };
}

/** Scores of a patch against every character (max normalised cross-correlation over prototypes). */
export function classify(model: GlyphModel, patch: Float32Array): Float32Array {
  const out = new Float32Array(MRZ_ALPHABET.length);
  for (let c = 0; c < MRZ_ALPHABET.length; c++) {
    let best = -1;
    for (const p of model.prototypes[c]) {
      let s = 0;
      for (let i = 0; i < p.length; i++) s += p[i] * patch[i];
      if (s > best) best = s;
    }
    out[c] = best;
  }
  return out;
}
