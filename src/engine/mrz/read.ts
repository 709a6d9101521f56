/**
 * MRZ reading: per-cell character scores from the OCR-B prototypes, summed over every frame where
 * the same MRZ layout was found (a vote per character), then decoded field by field:
 *  1. each position is restricted to the characters its field allows (digits in dates and check
 *     digits, letters or '<' in names and country codes) — this alone fixes O/0, I/1, B/8, S/5;
 *  2. a field whose check digit fails is corrected with the cheapest substitution(s) among close
 *     second-best candidates that make the 7-3-1 check digit pass; the composite digit must pass too.
 * A read that only passes through heavy correction is flagged (low margin) and never trusted to refuse.
 */
import type { RgbFrame } from '../decode.ts';
import { classify, strokesPreferSecond, STROKE_TIE_MARGIN, type GlyphModel } from './glyphs.ts';
import { extractCells, locateMrz } from './locate.ts';
import { ICAO_STATE_CODES } from './countries.ts';
import { checkDigit, formatFor, MRZ_ALPHABET, parseMrz, type MrzFields, type MrzFormat } from './parse.ts';

export interface FrameMrzRead {
  frame: number;
  /** Mean best score over cells: how well the frame's glyphs match OCR-B. */
  quality: number;
  /** An MRZ line starts or ends within 1.5 character pitches of the frame border: likely cut off. */
  atBorder: boolean;
  length: 30 | 36 | 44;
  lineCount: number;
  /** scores[line][cell][char] */
  scores: Float32Array[][];
  text: string[];
}

export function readMrzInFrame(model: GlyphModel, f: RgbFrame): FrameMrzRead | null {
  const loc = locateMrz(f.data, f.width, f.height);
  if (!loc) return null;
  const { lines, length } = loc.located;
  const scores = lines.map((ln) =>
    extractCells(loc.gray, ln, length).map((p) => strokeTieBreak(model, p, classify(model, p))),
  );
  let q = 0;
  let n = 0;
  for (const l of scores)
    for (const s of l) {
      q += Math.max(...s);
      n++;
    }
  const W = loc.gray.width;
  const atBorder = lines.some(
    (ln) =>
      ln.xStart - ln.comps[0].w / 2 < 1.5 * ln.pitch ||
      W - (ln.xEnd + ln.comps[ln.comps.length - 1].w / 2) < 1.5 * ln.pitch,
  );
  return {
    frame: f.index,
    atBorder,
    quality: n ? q / n : 0,
    length,
    lineCount: lines.length,
    scores,
    text: scores.map((l) => l.map(argmaxChar).join('')),
  };
}

const DIGIT_IDX = [...'0123456789'].map((c) => MRZ_ALPHABET.indexOf(c));
const LETTER_IDX = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ<'].map((c) => MRZ_ALPHABET.indexOf(c));

/**
 * Within letters and within digits (each MRZ position allows one class or both; letter/digit
 * confusions are settled by the field alphabets and check digits), when the two best candidates are
 * close, let the distinguishing strokes order them: the two scores are swapped, not changed, so the
 * read quality is unchanged and check-digit correction still sees the other as a close second.
 */
function strokeTieBreak(model: GlyphModel, patch: Float32Array, s: Float32Array): Float32Array {
  for (const idx of [LETTER_IDX, DIGIT_IDX]) {
    let a = -1;
    let b = -1;
    for (const i of idx) {
      if (a < 0 || s[i] > s[a]) {
        b = a;
        a = i;
      } else if (b < 0 || s[i] > s[b]) b = i;
    }
    if (s[a] - s[b] < STROKE_TIE_MARGIN && strokesPreferSecond(model, patch, a, b)) {
      const t = s[a];
      s[a] = s[b];
      s[b] = t;
    }
  }
  return s;
}

function argmaxChar(s: Float32Array): string {
  let b = 0;
  for (let i = 1; i < s.length; i++) if (s[i] > s[b]) b = i;
  return MRZ_ALPHABET[b];
}

const DIG = '0123456789';
const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ<';
const ANY = MRZ_ALPHABET;
const SEX = 'MFX<';

/** Allowed characters per position, per line, for a format. */
export function positionTypes(fmt: MrzFormat): string[][] {
  const t = (n: number, v: string) => new Array<string>(n).fill(v);
  switch (fmt) {
    case 'TD1':
      return [
        [...t(5, ALPHA), ...t(25, ANY)],
        [...t(7, DIG), SEX, ...t(7, DIG), ...t(3, ALPHA), ...t(11, ANY), DIG],
        t(30, ALPHA),
      ];
    case 'TD2':
      return [t(36, ALPHA), [...t(9, ANY), DIG, ...t(3, ALPHA), ...t(7, DIG), SEX, ...t(7, DIG), ...t(7, ANY), DIG]];
    case 'TD3':
      return [
        t(44, ALPHA),
        [...t(9, ANY), DIG, ...t(3, ALPHA), ...t(7, DIG), SEX, ...t(7, DIG), ...t(14, ANY), DIG + '<', DIG],
      ];
    case 'FR_CNI':
      return [
        [...t(30, ALPHA), ...t(6, ANY)],
        [...t(12, ANY), DIG, ...t(14, ALPHA), ...t(7, DIG), SEX, DIG],
      ];
  }
}

/** Check-digit fields as [line, start, end(exclusive), checkLine, checkPos] for correction. */
function checkFields(
  fmt: MrzFormat,
): { name: string; parts: [number, number, number][]; check: [number, number]; allowFiller?: boolean }[] {
  switch (fmt) {
    case 'TD1':
      return [
        { name: 'document_number', parts: [[0, 5, 14]], check: [0, 14] },
        { name: 'birth_date', parts: [[1, 0, 6]], check: [1, 6] },
        { name: 'expiry_date', parts: [[1, 8, 14]], check: [1, 14] },
        {
          name: 'composite',
          parts: [
            [0, 5, 30],
            [1, 0, 7],
            [1, 8, 15],
            [1, 18, 29],
          ],
          check: [1, 29],
        },
      ];
    case 'TD2':
      return [
        { name: 'document_number', parts: [[1, 0, 9]], check: [1, 9] },
        { name: 'birth_date', parts: [[1, 13, 19]], check: [1, 19] },
        { name: 'expiry_date', parts: [[1, 21, 27]], check: [1, 27] },
        {
          name: 'composite',
          parts: [
            [1, 0, 10],
            [1, 13, 20],
            [1, 21, 35],
          ],
          check: [1, 35],
        },
      ];
    case 'TD3':
      return [
        { name: 'document_number', parts: [[1, 0, 9]], check: [1, 9] },
        { name: 'birth_date', parts: [[1, 13, 19]], check: [1, 19] },
        { name: 'expiry_date', parts: [[1, 21, 27]], check: [1, 27] },
        { name: 'personal_number', parts: [[1, 28, 42]], check: [1, 42], allowFiller: true },
        {
          name: 'composite',
          parts: [
            [1, 0, 10],
            [1, 13, 20],
            [1, 21, 43],
          ],
          check: [1, 43],
        },
      ];
    case 'FR_CNI':
      return [
        { name: 'document_number', parts: [[1, 0, 12]], check: [1, 12] },
        { name: 'birth_date', parts: [[1, 27, 33]], check: [1, 33] },
        {
          name: 'composite',
          parts: [
            [0, 0, 36],
            [1, 0, 35],
          ],
          check: [1, 35],
        },
      ];
  }
}

export interface MrzDecode {
  format: MrzFormat;
  lines: string[];
  fields: MrzFields;
  /** Characters changed by check-digit correction. */
  corrections: { line: number; pos: number; from: string; to: string; cost: number }[];
  /** Lowest best-minus-second score margin among the constrained positions (read confidence). */
  minMargin: number;
  meanScore: number;
  framesVoted: number;
  /** Check digits valid after correction with only cheap substitutions. */
  confident: boolean;
}

/** Max cost of one correction (score drop from the best allowed char); beyond it we refuse to "fix" a field. */
const MAX_SUB_COST = 0.2;

export function decodeScores(scores: Float32Array[][], framesVoted: number, now: Date): MrzDecode | null {
  const n = scores[0]?.length ?? 0;
  const raw = scores.map((l) => l.map(argmaxChar).join(''));
  const fmt = formatFor(raw.map((r) => r.padEnd(n, '<')));
  if (!fmt) return null;
  const types = positionTypes(fmt);
  // constrained best + ranked alternatives per position
  const ranked: { c: string; s: number }[][][] = scores.map((line, li) =>
    line.map((s, pi) => {
      const allowed = types[li][pi] ?? ANY;
      return allowed
        .split('')
        .map((c) => ({ c, s: s[MRZ_ALPHABET.indexOf(c)] / Math.max(1, framesVoted) }))
        .sort((a, b) => b.s - a.s);
    }),
  );
  const chars = ranked.map((l) => l.map((r) => r[0].c));
  let minMargin = Infinity;
  let sum = 0;
  let cnt = 0;
  ranked.forEach((l) =>
    l.forEach((r) => {
      minMargin = Math.min(minMargin, r[0].s - (r[1]?.s ?? -1));
      sum += r[0].s;
      cnt++;
    }),
  );
  const corrections: MrzDecode['corrections'] = [];
  let confident = true;
  // issuing state and nationality must be ICAO codes: pick the code with the best summed score
  const stateFields: [number, number][] =
    fmt === 'TD1'
      ? [
          [0, 2],
          [1, 15],
        ]
      : fmt === 'FR_CNI'
        ? [[0, 2]]
        : [
            [0, 2],
            [1, 10],
          ];
  for (const [l, a] of stateFields) {
    const sc = (code: string) => {
      let t = 0;
      for (let k = 0; k < 3; k++) t += scores[l][a + k][MRZ_ALPHABET.indexOf(code[k])] / Math.max(1, framesVoted);
      return t;
    };
    const cur = chars[l].slice(a, a + 3).join('');
    if (ICAO_STATE_CODES.has(cur.replace(/<+$/, ''))) continue;
    let best = '';
    let bestS = -Infinity;
    for (const c of ICAO_STATE_CODES) {
      const code = c.padEnd(3, '<');
      const v = sc(code);
      if (v > bestS) {
        bestS = v;
        best = code;
      }
    }
    if (best)
      for (let k = 0; k < 3; k++)
        if (chars[l][a + k] !== best[k]) {
          corrections.push({ line: l, pos: a + k, from: chars[l][a + k], to: best[k], cost: sc(cur) - bestS });
          chars[l][a + k] = best[k];
        }
  }
  for (const f of checkFields(fmt)) {
    const positions: [number, number][] = [];
    for (const [l, a, b] of f.parts) for (let p = a; p < b; p++) positions.push([l, p]);
    const all = [...positions, f.check];
    const ok = () => {
      const data = positions.map(([l, p]) => chars[l][p]).join('');
      const cd = chars[f.check[0]][f.check[1]];
      if (cd === '<') return !!f.allowFiller && /^<*$/.test(data);
      return Number(cd) === checkDigit(data);
    };
    if (ok()) continue;
    // single, then double substitutions among cheap alternatives
    let best: { subs: [number, number, string, number][]; cost: number } | null = null;
    const alts = all.map(([l, p]) =>
      ranked[l][p]
        .slice(1, 4)
        .filter((a) => ranked[l][p][0].s - a.s <= MAX_SUB_COST)
        .map((a) => [l, p, a.c, ranked[l][p][0].s - a.s] as [number, number, string, number]),
    );
    const tryApply = (subs: [number, number, string, number][]) => {
      const saved = subs.map(([l, p]) => chars[l][p]);
      subs.forEach(([l, p, c]) => {
        chars[l][p] = c;
      });
      const good = ok();
      subs.forEach(([l, p], i) => {
        chars[l][p] = saved[i];
      });
      if (good) {
        const cost = subs.reduce((s, x) => s + x[3], 0);
        if (!best || cost < best.cost) best = { subs, cost };
      }
    };
    for (const a of alts) for (const s of a) tryApply([s]);
    if (!best)
      for (let i = 0; i < alts.length; i++)
        for (let j = i + 1; j < alts.length; j++) for (const s of alts[i]) for (const t of alts[j]) tryApply([s, t]);
    if (best) {
      for (const [l, p, c, cost] of (best as { subs: [number, number, string, number][] }).subs) {
        corrections.push({ line: l, pos: p, from: chars[l][p], to: c, cost });
        chars[l][p] = c;
      }
    } else confident = false;
  }
  const lines = chars.map((l) => l.join(''));
  const fields = parseMrz(lines, now);
  if (!fields) return null;
  return {
    format: fmt,
    lines,
    fields,
    corrections,
    minMargin,
    meanScore: sum / cnt,
    framesVoted,
    confident: confident && fields.valid,
  };
}

/** Votes per character over frames that found the same MRZ layout (the most frequent one). */
export function voteAndDecode(reads: FrameMrzRead[], now: Date): MrzDecode | null {
  if (!reads.length) return null;
  const byLayout = new Map<string, FrameMrzRead[]>();
  for (const r of reads) {
    const k = `${r.lineCount}x${r.length}`;
    (byLayout.get(k) ?? byLayout.set(k, []).get(k)!).push(r);
  }
  const layout = [...byLayout.values()].sort((a, b) => b.length - a.length)[0];
  // vote with the frames whose glyphs match OCR-B about as well as the best frame (misaligned frames score low)
  const bestQ = Math.max(...layout.map((r) => r.quality));
  const group = layout.filter((r) => r.quality >= bestQ - 0.05);
  const sum: Float32Array[][] = group[0].scores.map((l) => l.map(() => new Float32Array(MRZ_ALPHABET.length)));
  for (const r of group)
    r.scores.forEach((l, li) =>
      l.forEach((s, pi) => {
        for (let c = 0; c < s.length; c++) sum[li][pi][c] += s[c];
      }),
    );
  return decodeScores(sum, group.length, now);
}
