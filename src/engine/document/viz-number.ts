/**
 * The document number printed in the visual zone (VIZ) of the front, against the MRZ's (2303: front
 * and back of different documents). The MRZ reader's machinery is reused: glyph-sized components
 * chained into short text lines, each cell classified against the OCR-B prototypes. Many documents
 * print their number in OCR-B or a similar monospaced face; other fonts read poorly and simply do
 * not produce a crisp token, so "not found" is never evidence of fraud.
 */
import type { RgbFrame } from '../decode.ts';
import { classify, type GlyphModel } from '../mrz/glyphs.ts';
import { components, extractCells, inkMask, maxChannelGray, textLines } from '../mrz/locate.ts';
import { MRZ_ALPHABET } from '../mrz/parse.ts';

/** A short text line of the front: per cell, the OCR-B score of every MRZ_ALPHABET character. */
export interface VizLine {
  frame: number;
  scores: Float32Array[];
}

// document numbers are 6-12 characters (ICAO: 9, some TD1 up to 12 with the overflow); a token
// with a prefix or suffix glued to it is allowed a few more cells
const MIN_CELLS = 6;
const MAX_CELLS = 14;
const MAX_LINES = 80;
/**
 * OCR-B score lead of the best character over the expected one below which the cell still counts
 * as the expected character: twice the lead one blur step of mismatch costs an OCR-B glyph
 * (STROKE_TIE_MARGIN, 0.05), since the visual zone is often printed in another face.
 */
const SAME_GLYPH_MARGIN = 0.1;

export function readVizLines(model: GlyphModel, f: RgbFrame): VizLine[] {
  const scale = f.width < 1000 ? 1000 / f.width : f.width > 1800 ? 1800 / f.width : 1;
  const g = maxChannelGray(f.data, f.width, f.height, scale);
  const out: VizLine[] = [];
  const seen = new Set<string>();
  // the MRZ locator's two usual thresholds: a coarse window for large print, a fine one for small
  for (const win of [Math.round(g.width / 20), Math.round(g.width / 45)]) {
    for (const line of textLines(components(inkMask(g, win, 0.82, 18), g.width, g.height), MIN_CELLS)) {
      const n = line.comps.length;
      if (n > MAX_CELLS) continue;
      const key = `${Math.round(line.cyMid / 4)}:${Math.round(line.xStart / 8)}:${n}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ frame: f.index, scores: extractCells(g, line, n).map((p) => classify(model, p)) });
      if (out.length >= MAX_LINES) return out;
    }
  }
  return out;
}

const DIGITS = new Set('0123456789');
const idx = (c: string) => MRZ_ALPHABET.indexOf(c);
/** Best character of a cell among digits or letters (the class the number has at that position). */
function bestOf(s: Float32Array, digit: boolean): { c: string; score: number } {
  let c = '';
  let score = -Infinity;
  for (let k = 0; k < MRZ_ALPHABET.length; k++) {
    const ch = MRZ_ALPHABET[k];
    if (ch === '<' || DIGITS.has(ch) !== digit) continue;
    if (s[k] > score) {
      score = s[k];
      c = ch;
    }
  }
  return { c, score };
}

export interface VizNumberComparison {
  /** A window of a line reads the number with at most one differing character. */
  found: { frame: number; read: string; differing: number; meanScore: number } | null;
  /** Standalone tokens of the number's length and letter/digit pattern that read crisply but differ. */
  contradicting: { frame: number; read: string; differing: number; meanScore: number }[];
}

/**
 * Searches the lines for the MRZ number. Each cell is read within the class (digit or letter) the
 * number has at that position, the way the MRZ decoder reads fields: O/0 and I/1 confusions of a
 * sans-serif face cannot then count as differences.
 */
export function compareVizNumber(lines: VizLine[], number: string): VizNumberComparison {
  const N = number.replace(/</g, '');
  let found: VizNumberComparison['found'] = null;
  const contradicting: VizNumberComparison['contradicting'] = [];
  if (N.length < MIN_CELLS) return { found, contradicting };
  const pattern = [...N].map((c) => DIGITS.has(c));
  for (const l of lines) {
    for (let o = 0; o + N.length <= l.scores.length; o++) {
      let read = '';
      let sum = 0;
      let differing = 0;
      let expectedSum = 0;
      for (let i = 0; i < N.length; i++) {
        const b = bestOf(l.scores[o + i], pattern[i]);
        const expected = l.scores[o + i][idx(N[i])];
        read += b.c;
        sum += b.score;
        expectedSum += expected;
        // a different best character only counts when the expected one is clearly worse: another
        // face than OCR-B (F read as P, W as N) costs less than this, two different glyphs more
        if (b.score - expected > SAME_GLYPH_MARGIN) differing++;
      }
      const meanScore = sum / N.length;
      // the best window: fewest differing cells, then the crispest read
      if (
        differing <= 1 &&
        expectedSum / N.length >= 0.7 &&
        (!found || differing < found.differing || (differing === found.differing && meanScore > found.meanScore))
      ) {
        found = { frame: l.frame, read, differing, meanScore: Math.round(meanScore * 1000) / 1000 };
      }
      // only a standalone token can be a different document number (not a window of a longer line)
      if (l.scores.length === N.length && differing >= 2)
        contradicting.push({ frame: l.frame, read, differing, meanScore: Math.round(meanScore * 1000) / 1000 });
    }
  }
  contradicting.sort((a, b) => b.meanScore - a.meanScore);
  return { found, contradicting: contradicting.slice(0, 5) };
}
