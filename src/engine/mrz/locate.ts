/**
 * MRZ localisation and glyph-cell extraction. The MRZ is printed in black OCR-B on a light zone:
 * we take the MAX of R,G,B as grey (coloured backgrounds, guilloche and coloured overlays become
 * light; black ink stays dark), binarise with a local-mean threshold, label connected components,
 * chain glyph-sized components into text lines, and pick 2-3 parallel lines of equal length as
 * the MRZ. The line length (30/36/44) follows from the measured character pitch; each cell is then
 * sampled along the fitted line into a small normalised patch for the classifier.
 * Photographed documents: the centre line may be curved (bent page), the glyphs slanted against the
 * line's normal (perspective) — the slant is estimated per MRZ and the cells of a tilted line are
 * re-centred in the line's own frame; cells are capped at their paper level (light overlays).
 */

export interface GrayImg {
  width: number;
  height: number;
  data: Float32Array;
}

export const PATCH_W = 16;
export const PATCH_H = 24;

export interface Comp {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  cx: number;
  cy: number;
  w: number;
  h: number;
  n: number;
}

export interface TextLine {
  comps: Comp[];
  capH: number;
  pitch: number;
  slope: number;
  intercept: number;
  xStart: number;
  xEnd: number;
  cyMid: number;
  /** Glyph slant: the glyphs' vertical axis is v + shear·u (u along the line, v its normal); set by locateMrz for all MRZ lines together (else by extractCells). */
  shear?: number;
  /** Curved centre line y = a + b·d + c·d², d = x − xMid (a bent page or lens distortion); absent = straight. */
  curve?: { xMid: number; a: number; b: number; c: number };
}

/** Centre-line height of a text line at x. */
export function lineY(l: TextLine, x: number): number {
  if (!l.curve) return l.slope * x + l.intercept;
  const d = x - l.curve.xMid;
  return l.curve.a + l.curve.b * d + l.curve.c * d * d;
}

/** Tangent slope of a text line at x. */
export function lineSlopeAt(l: TextLine, x: number): number {
  return l.curve ? l.curve.b + 2 * l.curve.c * (x - l.curve.xMid) : l.slope;
}

export interface LocatedMrz {
  lines: TextLine[];
  length: 30 | 36 | 44;
  scale: number;
}

/** Max-channel grey of an RGB24 buffer, resampled by `scale` (bilinear). */
export function maxChannelGray(rgb: Buffer, width: number, height: number, scale: number): GrayImg {
  const W = Math.max(1, Math.round(width * scale));
  const H = Math.max(1, Math.round(height * scale));
  const src = new Float32Array(width * height);
  for (let i = 0, p = 0; i < src.length; i++, p += 3) src[i] = Math.max(rgb[p], rgb[p + 1], rgb[p + 2]);
  if (scale === 1) return { width, height, data: src };
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(height - 1, Math.max(0, (y + 0.5) / scale - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(height - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < W; x++) {
      const sx = Math.min(width - 1, Math.max(0, (x + 0.5) / scale - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(width - 1, x0 + 1);
      const fx = sx - x0;
      out[y * W + x] =
        (src[y0 * width + x0] * (1 - fx) + src[y0 * width + x1] * fx) * (1 - fy) +
        (src[y1 * width + x0] * (1 - fx) + src[y1 * width + x1] * fx) * fy;
    }
  }
  return { width: W, height: H, data: out };
}

/** Ink mask: darker than the local mean (window `win`) by a relative and absolute margin. */
export function inkMask(g: GrayImg, win: number, rel = 0.82, abs = 18): Uint8Array {
  const { width: W, height: H, data } = g;
  const I = new Float64Array((W + 1) * (H + 1));
  for (let y = 0; y < H; y++) {
    let row = 0;
    for (let x = 0; x < W; x++) {
      row += data[y * W + x];
      I[(y + 1) * (W + 1) + x + 1] = I[y * (W + 1) + x + 1] + row;
    }
  }
  const r = Math.max(3, Math.floor(win / 2));
  const m = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    const ya = Math.max(0, y - r);
    const yb = Math.min(H, y + r + 1);
    for (let x = 0; x < W; x++) {
      const xa = Math.max(0, x - r);
      const xb = Math.min(W, x + r + 1);
      const s = I[yb * (W + 1) + xb] - I[ya * (W + 1) + xb] - I[yb * (W + 1) + xa] + I[ya * (W + 1) + xa];
      // v < mean·rel and v < mean − abs, with mean = s / area (multiplied out: no division per pixel)
      const area = (yb - ya) * (xb - xa);
      const v = data[y * W + x] * area;
      if (v < s * rel && v + abs * area < s) m[y * W + x] = 1;
    }
  }
  return m;
}

/** 8-connected components (two-pass union-find). */
export function components(mask: Uint8Array, W: number, H: number): Comp[] {
  const labels = new Int32Array(W * H);
  const parent: number[] = [0];
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]];
      a = parent[a];
    }
    return a;
  };
  const union = (a: number, b: number) => {
    a = find(a);
    b = find(b);
    if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
  };
  let next = 1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      if (!mask[i]) continue;
      // neighbours already labelled: W, N, NW, NE (no per-pixel allocation: this loop sees every pixel)
      const a = x > 0 ? labels[i - 1] : 0;
      const b = y > 0 ? labels[i - W] : 0;
      const c = y > 0 && x > 0 ? labels[i - W - 1] : 0;
      const d = y > 0 && x < W - 1 ? labels[i - W + 1] : 0;
      if (!(a | b | c | d)) {
        labels[i] = next;
        parent.push(next);
        next++;
        continue;
      }
      let l = 0x7fffffff;
      if (a && a < l) l = a;
      if (b && b < l) l = b;
      if (c && c < l) l = c;
      if (d && d < l) l = d;
      labels[i] = l;
      if (a && a !== l) union(l, a);
      if (b && b !== l) union(l, b);
      if (c && c !== l) union(l, c);
      if (d && d !== l) union(l, d);
    }
  }
  const boxes = new Map<number, Comp>();
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const l0 = labels[y * W + x];
      if (!l0) continue;
      const l = find(l0);
      let c = boxes.get(l);
      if (!c) {
        c = { x0: x, y0: y, x1: x, y1: y, cx: 0, cy: 0, w: 0, h: 0, n: 0 };
        boxes.set(l, c);
      }
      if (x < c.x0) c.x0 = x;
      if (x > c.x1) c.x1 = x;
      if (y < c.y0) c.y0 = y;
      if (y > c.y1) c.y1 = y;
      c.n++;
    }
  }
  const out: Comp[] = [];
  for (const c of boxes.values()) {
    c.w = c.x1 - c.x0 + 1;
    c.h = c.y1 - c.y0 + 1;
    c.cx = (c.x0 + c.x1) / 2;
    c.cy = (c.y0 + c.y1) / 2;
    out.push(c);
  }
  return out;
}

function fitLine(cs: Comp[]): { slope: number; intercept: number } {
  const n = cs.length;
  const mx = cs.reduce((s, c) => s + c.cx, 0) / n;
  const my = cs.reduce((s, c) => s + c.cy, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const c of cs) {
    sxx += (c.cx - mx) ** 2;
    sxy += (c.cx - mx) * (c.cy - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx };
}

/**
 * Curved centre line of a chain: a least-squares quadratic y(x) through the component centres. A
 * bent passport page or lens distortion bows a line by several pixels (±6 px at a 22 px cap height
 * on a phone shot), enough to push glyphs half out of their cells. Components off the curve by more
 * than a third of the cap height (a stray blob chained to the line) are left out of the refit; a
 * bow under a twentieth of the cap height at the line ends is noise: the line stays straight.
 */
function fitCurve(cs: Comp[], slope: number, intercept: number, capH: number): TextLine['curve'] {
  if (cs.length < 10) return undefined;
  const xMid = (cs[0].cx + cs[cs.length - 1].cx) / 2;
  let a = slope * xMid + intercept;
  let b = slope;
  let c = 0;
  for (let it = 0; it < 2; it++) {
    const rows: number[][] = [];
    const rhs: number[] = [];
    for (const q of cs) {
      const d = q.cx - xMid;
      if (Math.abs(q.cy - (a + b * d + c * d * d)) > capH / 3) continue;
      rows.push([1, d, d * d]);
      rhs.push(q.cy);
    }
    if (rows.length < 10) return undefined;
    const AtA = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    const Atb = [0, 0, 0];
    rows.forEach((r, i) => {
      for (let p = 0; p < 3; p++) {
        Atb[p] += r[p] * rhs[i];
        for (let q = 0; q < 3; q++) AtA[p][q] += r[p] * r[q];
      }
    });
    const sol = solve3(AtA, Atb);
    if (!sol) return undefined;
    [a, b, c] = sol;
  }
  const half = (cs[cs.length - 1].cx - cs[0].cx) / 2;
  return Math.abs(c) * half * half < capH / 20 ? undefined : { xMid, a, b, c };
}

const med = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

/** Chains glyph-sized components into text lines. */
export function textLines(comps: Comp[], minComps = 18): TextLine[] {
  const glyphs = comps
    .filter((c) => c.h >= 7 && c.h <= 120 && c.w <= 1.6 * c.h + 2 && c.n >= 8 && c.w >= 2)
    .sort((a, b) => a.cx - b.cx);
  const parent = glyphs.map((_, i) => i);
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]];
      a = parent[a];
    }
    return a;
  };
  const hasLeft = new Uint8Array(glyphs.length);
  for (let i = 0; i < glyphs.length; i++) {
    const a = glyphs[i];
    let best = -1;
    let bestDx = Infinity;
    for (let j = i + 1; j < glyphs.length; j++) {
      const b = glyphs[j];
      const hm = Math.max(a.h, b.h);
      const dx = b.cx - a.cx;
      if (dx > 2.2 * hm) break;
      if (dx < 0.35 * hm) continue;
      if (Math.abs(b.cy - a.cy) > 0.45 * hm) continue;
      if (Math.min(a.h, b.h) < 0.35 * hm) continue;
      if (hasLeft[j]) continue;
      if (dx < bestDx) {
        bestDx = dx;
        best = j;
      }
    }
    if (best >= 0) {
      hasLeft[best] = 1;
      parent[find(best)] = find(i);
    }
  }
  const groups = new Map<number, Comp[]>();
  glyphs.forEach((g, i) => {
    const r = find(i);
    (groups.get(r) ?? groups.set(r, []).get(r)!).push(g);
  });
  const lines: TextLine[] = [];
  for (const cs0 of groups.values()) {
    if (cs0.length < minComps) continue;
    cs0.sort((a, b) => a.cx - b.cx);
    for (const cs of cleanChain(cs0)) {
      if (cs.length < minComps) continue;
      const { slope, intercept } = fitLine(cs);
      const hs = cs.map((c) => uprightHeight(c, slope)).sort((a, b) => a - b);
      const capH = hs[Math.floor(hs.length * 0.8)];
      const dxs: number[] = [];
      for (let i = 1; i < cs.length; i++) dxs.push(cs[i].cx - cs[i - 1].cx);
      const pitch = med(dxs.filter((d) => d < 1.6 * med(dxs)));
      const xStart = cs[0].cx;
      const xEnd = cs[cs.length - 1].cx;
      lines.push({
        comps: cs,
        capH,
        pitch,
        slope,
        intercept,
        xStart,
        xEnd,
        cyMid: (slope * (xStart + xEnd)) / 2 + intercept,
        curve: fitCurve(cs, slope, intercept, capH),
      });
    }
  }
  return lines.sort((a, b) => a.cyMid - b.cyMid);
}

/**
 * Height of a glyph in its own (rotated) frame. The bounding box of a W×H glyph turned by θ is
 * h = H·cosθ + W·sinθ high and w = W·cosθ + H·sinθ wide; solving for H keeps a tilted line's cap
 * height (which sizes the sampled cells) from growing with the tilt (+14 % at 20°). Up to 35° (cos 2θ
 * ≥ 0.34): steeper lines keep the box height rather than divide by a vanishing denominator.
 */
function uprightHeight(c: Comp, slope: number): number {
  const th = Math.abs(Math.atan(slope));
  if (th < 0.02 || th > 0.61) return c.h;
  const H = (c.h * Math.cos(th) - c.w * Math.sin(th)) / Math.cos(2 * th);
  return H > 0.5 * c.h ? H : c.h;
}

/**
 * MRZ lines have every cell printed at a constant pitch and constant cap height: split a chain at
 * gaps wider than 1.7 pitches and trim end components whose height or spacing does not fit (table
 * texture, card edges, overlays chained to the line).
 */
export function cleanChain(cs: Comp[]): Comp[][] {
  if (cs.length < 4) return [cs];
  const hs = cs.map((c) => c.h).sort((a, b) => a - b);
  const capH = hs[Math.floor(hs.length * 0.8)];
  const dxs: number[] = [];
  for (let i = 1; i < cs.length; i++) dxs.push(cs[i].cx - cs[i - 1].cx);
  const pitch = med(dxs);
  const okH = (c: Comp) => c.h <= 1.3 * capH + 1 && c.h >= 0.3 * capH;
  const segs: Comp[][] = [];
  let cur: Comp[] = [];
  for (let i = 0; i < cs.length; i++) {
    if (i > 0 && cs[i].cx - cs[i - 1].cx > 1.7 * pitch) {
      segs.push(cur);
      cur = [];
    }
    cur.push(cs[i]);
  }
  segs.push(cur);
  return segs.map((seg) => {
    let a = 0;
    let b = seg.length - 1;
    const gapOk = (i: number, j: number) => {
      const d = Math.abs(seg[j].cx - seg[i].cx);
      return d >= 0.6 * pitch && d <= 1.45 * pitch;
    };
    while (b - a > 3 && (!okH(seg[a]) || !gapOk(a, a + 1))) a++;
    while (b - a > 3 && (!okH(seg[b]) || !gapOk(b - 1, b))) b--;
    return seg.slice(a, b + 1);
  });
}

/** Picks 2-3 consecutive, parallel, equally long lines with MRZ geometry; null when none. */
export function pickMrz(lines: TextLine[]): { lines: TextLine[]; length: 30 | 36 | 44 } | null {
  type Cand = { lines: TextLine[]; length: 30 | 36 | 44; score: number };
  const cands: Cand[] = [];
  const estN = (l: TextLine) => (l.xEnd - l.xStart) / l.pitch + 1;
  const similar = (a: TextLine, b: TextLine) => {
    const h = Math.max(a.capH, b.capH);
    const len = Math.max(a.xEnd - a.xStart, b.xEnd - b.xStart);
    return (
      Math.abs(a.xStart - b.xStart) < 1.5 * h &&
      Math.abs(a.xEnd - b.xEnd) < 1.5 * h + 0.04 * len &&
      Math.abs(a.capH - b.capH) < 0.3 * h &&
      Math.abs(a.slope - b.slope) < 0.05
    );
  };
  const gapOk = (a: TextLine, b: TextLine) => {
    const d = b.cyMid - a.cyMid;
    const h = Math.max(a.capH, b.capH);
    return d > 1.2 * h && d < 3.2 * h;
  };
  for (let i = 0; i < lines.length; i++) {
    for (const k of [3, 2]) {
      const g = lines.slice(i, i + k);
      if (g.length < k) continue;
      let ok = true;
      for (let j = 1; j < k; j++) if (!similar(g[0], g[j]) || !gapOk(g[j - 1], g[j])) ok = false;
      if (!ok) continue;
      const n = med(g.map(estN));
      let length: 30 | 36 | 44;
      if (k === 3) {
        if (Math.abs(n - 30) > 4) continue;
        length = 30;
      } else {
        if (Math.abs(n - 44) <= 5) length = 44;
        else if (Math.abs(n - 36) <= 4) length = 36;
        else continue;
      }
      // every MRZ cell is printed (fillers included): nearly one glyph component per cell
      if (g.some((l) => l.comps.length < 0.85 * length || l.comps.length > 1.15 * length)) continue;
      const fill = g.reduce((s, l) => s + Math.min(1, l.comps.length / length), 0) / k;
      cands.push({ lines: g, length, score: k * 10 + fill * 5 + g[0].cyMid / 1e6 });
    }
  }
  cands.sort((a, b) => b.score - a.score);
  return cands[0] ?? null;
}

/**
 * Samples the N cells of a line into PATCH_W×PATCH_H patches (zero-mean, unit-norm). Cell centres are
 * spaced uniformly between the first and last glyph, then snapped to a glyph centre when one is close.
 */
/**
 * Cell centres along the line: x(k) = a + b·k + c·k² fitted to the glyph components assigned to
 * their nearest cell (a quadratic absorbs the pitch change of a tilted document), refined twice.
 */
export function cellCentres(line: TextLine, n: number): number[] {
  const xs = line.comps.map((q) => q.cx);
  // the usual case: one component per cell (OCR-B glyphs, fillers included, are single blobs)
  if (xs.length === n) return xs;
  let best: { coef: number[]; inliers: number; err: number } | null = null;
  // spurious components (overlays, stains) may extend the chain at either end: try dropping up to 2 each side
  for (let s0 = 0; s0 <= 2; s0++) {
    for (let e0 = 0; e0 <= 2; e0++) {
      if (xs.length - s0 - e0 < n * 0.7) continue;
      const r = refineGrid(xs, n, xs[s0], (xs[xs.length - 1 - e0] - xs[s0]) / (n - 1));
      if (!best || r.inliers > best.inliers || (r.inliers === best.inliers && r.err < best.err)) best = r;
    }
  }
  const [a, b, c] = best?.coef ?? [line.xStart, (line.xEnd - line.xStart) / (n - 1), 0];
  return Array.from({ length: n }, (_, k) => a + b * k + c * k * k);
}

function refineGrid(xs: number[], n: number, a0: number, b0: number): { coef: number[]; inliers: number; err: number } {
  let a = a0;
  let b = b0;
  let c = 0;
  let inliers = 0;
  let err = 0;
  for (let it = 0; it < 4; it++) {
    const rows: number[][] = [];
    const rhs: number[] = [];
    const used = new Set<number>();
    err = 0;
    for (const x of xs) {
      let k = (x - a) / b;
      k = k - (a + b * k + c * k * k - x) / (b + 2 * c * k || 1);
      const kr = Math.round(k);
      if (kr < 0 || kr >= n || used.has(kr)) continue;
      const res = Math.abs(a + b * kr + c * kr * kr - x);
      if (res > 0.3 * b) continue;
      used.add(kr);
      err += res;
      rows.push([1, kr, kr * kr]);
      rhs.push(x);
    }
    inliers = rows.length;
    if (rows.length < 6) break;
    const AtA = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    const Atb = [0, 0, 0];
    rows.forEach((r, i) => {
      for (let p = 0; p < 3; p++) {
        Atb[p] += r[p] * rhs[i];
        for (let q = 0; q < 3; q++) AtA[p][q] += r[p] * r[q];
      }
    });
    const sol = solve3(AtA, Atb);
    if (!sol) break;
    [a, b, c] = sol;
  }
  return { coef: [a, b, c], inliers, err };
}

function solve3(A: number[][], y: number[]): number[] | null {
  const det = (m: number[][]) =>
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const D = det(A);
  if (Math.abs(D) < 1e-9) return null;
  return [0, 1, 2].map((i) => det(A.map((row, r) => row.map((v, cc) => (cc === i ? y[r] : v)))) / D);
}

/**
 * Glyph slant of a line. A document seen at an angle (perspective) or a sheared scan leans the
 * glyphs' vertical strokes away from the line's normal; sampling the cells along the normal then
 * turns a 7 into a 9 or an A into an R. OCR-B is rich in vertical strokes (E F H I L N P T 1 4 …), so
 * the shear that gathers the ink of the band into the fewest columns — the largest sum of squared
 * column sums of darkness, the classic slant criterion — is the glyphs' vertical. Coarse search over
 * ±0.5 (±27°, beyond what a readable photo shows), then a finer one around the best.
 */
export function estimateShear(g: GrayImg, lines: TextLine[]): number {
  const MAX = 0.5;
  // each line's band sampled once into a rectified strip (rows across the cap height, 1 px columns
  // along the line); a shear t then just shifts row r by t·ov(r) columns
  const strips = lines.map((line) => {
    const half = line.capH / 2;
    const rows = Math.max(6, Math.round(line.capH / 2));
    const margin = Math.ceil(MAX * half) + 1;
    const x0 = line.xStart - line.pitch / 2 - margin;
    const cols = Math.ceil(line.xEnd + line.pitch / 2 + margin - x0);
    const ovs = Array.from({ length: rows }, (_, r) => ((r + 0.5) / rows - 0.5) * 2 * half);
    const data = new Float32Array(rows * cols);
    for (let c = 0; c < cols; c++) {
      const x = x0 + c;
      const cy = lineY(line, x);
      const sl = lineSlopeAt(line, x);
      const nrm = Math.hypot(1, sl);
      const ux = 1 / nrm;
      const uy = sl / nrm;
      for (let r = 0; r < rows; r++) data[r * cols + c] = 255 - bilinear(g, x - ovs[r] * uy, cy + ovs[r] * ux);
    }
    return { rows, cols, margin, ovs, data };
  });
  const col = new Float64Array(Math.max(...strips.map((s) => s.cols)));
  const score = (t: number) => {
    let e = 0;
    for (const s of strips) {
      col.fill(0);
      for (let r = 0; r < s.rows; r++) {
        const sh = t * s.ovs[r];
        const i0 = Math.floor(sh);
        const fr = sh - i0;
        const row = r * s.cols;
        for (let c = s.margin; c < s.cols - s.margin; c++) {
          const k = c + i0;
          col[c] += s.data[row + k] * (1 - fr) + s.data[row + k + 1] * fr;
        }
      }
      for (let c = s.margin; c < s.cols - s.margin; c++) e += col[c] * col[c];
    }
    return e;
  };
  let best = 0;
  let bestE = score(0);
  for (let t = -MAX; t <= MAX + 1e-9; t += 0.1) {
    if (Math.abs(t) < 1e-9) continue;
    const e = score(t);
    if (e > bestE) {
      bestE = e;
      best = t;
    }
  }
  const c = best;
  for (const t of [c - 0.05, c - 0.025, c + 0.025, c + 0.05]) {
    const e = score(t);
    if (e > bestE) {
      bestE = e;
      best = t;
    }
  }
  return best;
}

/**
 * Tilt (rad, line angle plus glyph slant) from which cells are re-centred in the line's own frame.
 * A component's image bounding-box centre moves off the glyph's centre by up to ½·width·sin θ for
 * asymmetric glyphs (7, L, P …); below ~6° that is under half a patch pixel.
 */
const RECENTRE_TILT = 0.1;

interface CellFrame {
  cx: number;
  cy: number;
  ux: number;
  uy: number;
  wx: number;
  wy: number;
  pitch: number;
}

function cellFrames(g: GrayImg, line: TextLine, n: number): CellFrame[] {
  const xsC = cellCentres(line, n);
  line.shear ??= estimateShear(g, [line]);
  const t = line.shear;
  const frames: CellFrame[] = xsC.map((cx, k) => {
    const slope = lineSlopeAt(line, cx);
    const norm = Math.hypot(1, slope);
    const ux = 1 / norm;
    const uy = slope / norm;
    const local = k === 0 ? xsC[1] - xsC[0] : k === n - 1 ? xsC[n - 1] - xsC[n - 2] : (xsC[k + 1] - xsC[k - 1]) / 2;
    return { cx, cy: lineY(line, cx), ux, uy, wx: -uy + t * ux, wy: ux + t * uy, pitch: local * norm };
  });
  if (Math.abs(Math.atan(line.slope)) + Math.abs(t) > RECENTRE_TILT) recentre(g, line, frames);
  return frames;
}

/**
 * Re-centres the cells of a tilted line on their glyph's bounding box measured in the line's own
 * (rotated, de-slanted) frame — the convention of the upright prototypes. Horizontal offsets are per
 * cell; vertical ones are smoothed by a quadratic over the line (glyphs share one centre line, a
 * single glyph's box says little about it).
 */
function recentre(g: GrayImg, line: TextLine, frames: CellFrame[]): void {
  const step = line.capH / 16;
  const nu = Math.round((1.4 * line.pitch) / step);
  const nv = Math.round((1.6 * line.capH) / step);
  const win = new Float32Array(nu * nv);
  const lab = new Int32Array(nu * nv);
  const du: number[] = [];
  const dv: (number | null)[] = [];
  for (const f of frames) {
    for (let j = 0; j < nv; j++) {
      const ov = (j + 0.5 - nv / 2) * step;
      for (let i = 0; i < nu; i++) {
        const ou = (i + 0.5 - nu / 2) * step;
        win[j * nu + i] = bilinear(g, f.cx + ou * f.ux + ov * f.wx, f.cy + ou * f.uy + ov * f.wy);
      }
    }
    // the window spans 1.4 cells: its lightest 30 % is paper even with parts of both neighbours in it
    const paper = quantile8(win, 0.7);
    let ink = Infinity;
    for (const v of win) if (v < ink) ink = v;
    // under ~10 % of the paper level there is no glyph to measure (blank or washed-out cell): keep the grid position
    if (paper - ink < 25) {
      du.push(0);
      dv.push(null);
      continue;
    }
    const thr = (paper + ink) / 2;
    lab.fill(0);
    let best: { n: number; i0: number; i1: number; j0: number; j1: number } | null = null;
    let next = 1;
    const stack: number[] = [];
    for (let s0 = 0; s0 < win.length; s0++) {
      if (lab[s0] || win[s0] >= thr) continue;
      const b = { n: 0, i0: nu, i1: -1, j0: nv, j1: -1 };
      lab[s0] = next;
      stack.push(s0);
      while (stack.length) {
        const q = stack.pop()!;
        const qi = q % nu;
        const qj = (q - qi) / nu;
        b.n++;
        if (qi < b.i0) b.i0 = qi;
        if (qi > b.i1) b.i1 = qi;
        if (qj < b.j0) b.j0 = qj;
        if (qj > b.j1) b.j1 = qj;
        for (const [di, dj] of [
          [1, 0],
          [-1, 0],
          [0, 1],
          [0, -1],
          [1, 1],
          [-1, -1],
          [1, -1],
          [-1, 1],
        ]) {
          const ii = qi + di;
          const jj = qj + dj;
          if (ii < 0 || jj < 0 || ii >= nu || jj >= nv) continue;
          const r = jj * nu + ii;
          if (!lab[r] && win[r] < thr) {
            lab[r] = next;
            stack.push(r);
          }
        }
      }
      next++;
      // the glyph of this cell: the largest blob centred within 0.35 pitch of the grid position (the
      // neighbours' blobs, cut by the window edge, are centred ≥ 0.5 pitch away)
      const cu = ((b.i0 + b.i1 + 1) / 2 - nu / 2) * step;
      if (Math.abs(cu) <= 0.35 * line.pitch && (!best || b.n > best.n)) best = b;
    }
    if (!best) {
      du.push(0);
      dv.push(null);
      continue;
    }
    du.push(((best.i0 + best.i1 + 1) / 2 - nu / 2) * step);
    dv.push(((best.j0 + best.j1 + 1) / 2 - nv / 2) * step);
  }
  // smooth vertical offsets: least-squares quadratic over the cell index
  const rows: number[][] = [];
  const rhs: number[] = [];
  dv.forEach((v, k) => {
    if (v !== null) {
      rows.push([1, k, k * k]);
      rhs.push(v);
    }
  });
  let coef = [0, 0, 0];
  if (rows.length >= 6) {
    const AtA = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    const Atb = [0, 0, 0];
    rows.forEach((r, i) => {
      for (let p = 0; p < 3; p++) {
        Atb[p] += r[p] * rhs[i];
        for (let q = 0; q < 3; q++) AtA[p][q] += r[p] * r[q];
      }
    });
    coef = solve3(AtA, Atb) ?? coef;
  }
  frames.forEach((f, k) => {
    const a = du[k];
    const b = coef[0] + coef[1] * k + coef[2] * k * k;
    f.cx += a * f.ux + b * f.wx;
    f.cy += a * f.uy + b * f.wy;
  });
}

/** Samples the N cells of a line into PATCH_W×PATCH_H patches (zero-mean, unit-norm). */
export function extractCells(g: GrayImg, line: TextLine, n: number): Float32Array[] {
  const out: Float32Array[] = [];
  const hh = 1.4 * line.capH;
  for (const f of cellFrames(g, line, n)) {
    const p = new Float32Array(PATCH_W * PATCH_H);
    for (let yy = 0; yy < PATCH_H; yy++) {
      const ov = ((yy + 0.5) / PATCH_H - 0.5) * hh;
      for (let xx = 0; xx < PATCH_W; xx++) {
        const ou = ((xx + 0.5) / PATCH_W - 0.5) * f.pitch;
        p[yy * PATCH_W + xx] = bilinear(g, f.cx + ou * f.ux + ov * f.wx, f.cy + ou * f.uy + ov * f.wy);
      }
    }
    out.push(normalisePatch(clampPaper(p)));
  }
  return out;
}

function bilinear(g: GrayImg, x: number, y: number): number {
  if (x < 0 || y < 0 || x > g.width - 1 || y > g.height - 1) return 255;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(g.width - 1, x0 + 1);
  const y1 = Math.min(g.height - 1, y0 + 1);
  const fx = x - x0;
  const fy = y - y0;
  const d = g.data;
  const W = g.width;
  return (
    (d[y0 * W + x0] * (1 - fx) + d[y0 * W + x1] * fx) * (1 - fy) +
    (d[y1 * W + x0] * (1 - fx) + d[y1 * W + x1] * fx) * fy
  );
}

const hist = new Uint32Array(257);
/** q-quantile of 8-bit grey values (floats in 0..255), to the upper edge of its 1-level bin: O(n), no sort. */
export function quantile8(v: Float32Array, q: number): number {
  hist.fill(0);
  for (let i = 0; i < v.length; i++) hist[Math.min(256, Math.max(0, Math.floor(v[i])))]++;
  const rank = Math.floor(v.length * q);
  let acc = 0;
  for (let b = 0; b < 257; b++) {
    acc += hist[b];
    if (acc > rank) return b + 1;
  }
  return 256;
}

/**
 * Caps a cell at its paper level (the PAPER_RANK quantile). Nothing lighter than the paper belongs to
 * a glyph: a light overlay line, a glare streak or a bright red frame (max-channel grey) crossing the
 * cell would otherwise dominate the zero-mean correlation. The lightest quarter: such lines cover a
 * thin band of the cell, while sharp OCR-B glyphs darken 20-45 % of it (M W B 8 the most); on blurred
 * glyphs the cap only trims the faintest halo, identically in the prototypes and the reads. (A lower
 * quantile, 0.6, cut into the halo of small JPEG glyphs and cost exact reads on 9-12 px print.)
 */
const PAPER_RANK = 0.75;
export function clampPaper(p: Float32Array): Float32Array {
  const level = quantile8(p, PAPER_RANK);
  for (let i = 0; i < p.length; i++) if (p[i] > level) p[i] = level;
  return p;
}

export function normalisePatch(p: Float32Array): Float32Array {
  let m = 0;
  for (const v of p) m += v;
  m /= p.length;
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    p[i] -= m;
    s += p[i] * p[i];
  }
  const k = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < p.length; i++) p[i] *= k;
  return p;
}

/** Locates the MRZ in an RGB frame; the image is resampled so its width is 1000-1800 px. */
export function locateMrz(rgb: Buffer, width: number, height: number): { located: LocatedMrz; gray: GrayImg } | null {
  const scale = width < 1000 ? 1000 / width : width > 1800 ? 1800 / width : 1;
  const g = maxChannelGray(rgb, width, height, scale);
  // last pass, only when the usual thresholds find nothing: small or washed-out print whose strokes
  // are only 10-15 % darker than the paper (blurred 7-8 px glyphs, a grey-tinted MRZ) breaks into
  // fragments under 18 %; the MRZ geometry test (parallel lines, one glyph per cell) keeps the noise
  // that a lenient threshold lets through from being taken for an MRZ
  for (const [win, rel, abs] of [
    [Math.round(g.width / 20), 0.82, 18],
    [Math.round(g.width / 45), 0.82, 18],
    [Math.round(g.width / 20), 0.92, 10],
  ]) {
    const mask = inkMask(g, win, rel, abs);
    const comps = components(mask, g.width, g.height);
    const lines = textLines(comps);
    const pick = pickMrz(lines);
    if (pick) {
      // the lines of one MRZ share the document's slant: estimate it from all of them together
      const shear = estimateShear(g, pick.lines);
      for (const l of pick.lines) l.shear = shear;
      return { located: { lines: pick.lines, length: pick.length, scale }, gray: g };
    }
  }
  return null;
}
