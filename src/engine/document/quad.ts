/**
 * Document quadrilateral per frame (OpenCV): grey → blur → Canny → dilate → external contours →
 * polygon approximation; the largest convex 4-gon covering ≥ 8 % of the frame is the document.
 * Corners are returned in frame pixels ordered TL, TR, BR, BL.
 */
import type { RgbFrame } from '../decode.ts';
import type { CV } from '../models/opencv.ts';
import type { Pt } from '../face/geometry.ts';

export interface Quad {
  corners: Pt[];
  areaShare: number;
  touchesBorder: boolean;
}

export function orderCorners(pts: Pt[]): Pt[] {
  const c = [pts.reduce((s, p) => s + p[0], 0) / 4, pts.reduce((s, p) => s + p[1], 0) / 4];
  const sorted = pts
    .slice()
    .sort((a, b) => Math.atan2(a[1] - c[1], a[0] - c[0]) - Math.atan2(b[1] - c[1], b[0] - c[0]));
  // atan2 order starts at -π (left) going clockwise in image coords (y down): find TL as min x+y
  let start = 0;
  for (let i = 1; i < 4; i++) if (sorted[i][0] + sorted[i][1] < sorted[start][0] + sorted[start][1]) start = i;
  return [0, 1, 2, 3].map((k) => sorted[(start + k) % 4]);
}

export function detectQuad(cv: CV, f: RgbFrame, workWidth = 640): Quad | null {
  const scale = Math.min(1, workWidth / f.width);
  const src = cv.matFromArray(f.height, f.width, cv.CV_8UC3, f.data);
  const small = new cv.Mat();
  const gray = new cv.Mat();
  const edges = new cv.Mat();
  const contours = new cv.MatVector();
  const hier = new cv.Mat();
  try {
    cv.resize(src, small, new cv.Size(Math.round(f.width * scale), Math.round(f.height * scale)), 0, 0, cv.INTER_AREA);
    cv.cvtColor(small, gray, cv.COLOR_RGB2GRAY);
    cv.GaussianBlur(gray, gray, new cv.Size(5, 5), 0);
    cv.Canny(gray, edges, 40, 120);
    const k = cv.getStructuringElement(cv.MORPH_RECT, new cv.Size(3, 3));
    cv.dilate(edges, edges, k);
    k.delete();
    cv.findContours(edges, contours, hier, cv.RETR_EXTERNAL, cv.CHAIN_APPROX_SIMPLE);
    const W = small.cols;
    const H = small.rows;
    const area = W * H;
    let best: { pts: Pt[]; a: number } | null = null;
    for (let i = 0; i < contours.size(); i++) {
      const c = contours.get(i);
      const a = cv.contourArea(c);
      if (a < 0.08 * area) {
        c.delete();
        continue;
      }
      const hull = new cv.Mat();
      cv.convexHull(c, hull, false, true);
      const approx = new cv.Mat();
      const peri = cv.arcLength(hull, true);
      for (const eps of [0.02, 0.035, 0.05]) {
        cv.approxPolyDP(hull, approx, eps * peri, true);
        if (approx.rows === 4) break;
      }
      if (approx.rows === 4) {
        const pts: Pt[] = [];
        for (let j = 0; j < 4; j++) pts.push([approx.data32S[j * 2] / scale, approx.data32S[j * 2 + 1] / scale]);
        const qa = cv.contourArea(approx);
        if (qa >= 0.08 * area && (!best || qa > best.a)) best = { pts, a: qa };
      }
      hull.delete();
      approx.delete();
      c.delete();
    }
    if (!best) return null;
    const corners = orderCorners(best.pts);
    const m = 0.01 * Math.max(f.width, f.height);
    const touchesBorder = corners.some(
      (p) => p[0] <= m || p[1] <= m || p[0] >= f.width - 1 - m || p[1] >= f.height - 1 - m,
    );
    return { corners, areaShare: best.a / area, touchesBorder };
  } finally {
    src.delete();
    small.delete();
    gray.delete();
    edges.delete();
    contours.delete();
    hier.delete();
  }
}

/** Perspective signature of a quad: log ratios of opposite sides (0,0 for a fronto-parallel rectangle). */
export function perspectiveSignature(q: Pt[]): [number, number] {
  const d = (a: Pt, b: Pt) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  const top = d(q[0], q[1]);
  const right = d(q[1], q[2]);
  const bottom = d(q[2], q[3]);
  const left = d(q[3], q[0]);
  return [Math.log(top / bottom), Math.log(left / right)];
}
