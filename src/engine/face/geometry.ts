/**
 * Landmark geometry over the MediaPipe 468/478-point face mesh that Human returns: eye aspect
 * ratios (blink), mouth width (smile), and a planarity test (homography fit) that separates a
 * real 3-D head from a flat photo or screen moved in front of the camera.
 */

export type Pt = number[];

export const MESH = {
  rightEyeOuter: 33,
  rightEyeInner: 133,
  leftEyeInner: 362,
  leftEyeOuter: 263,
  rightEyeUpper: [159, 158] as const,
  rightEyeLower: [145, 153] as const,
  leftEyeUpper: [386, 385] as const,
  leftEyeLower: [374, 380] as const,
  mouthLeft: 61,
  mouthRight: 291,
  noseTip: 1,
};

/** Landmarks spread over the face at different depths (nose, eyes, mouth, contour) for the planarity fit. */
export const PLANARITY_POINTS = [
  33, 133, 362, 263, 1, 4, 5, 195, 168, 6, 61, 291, 0, 17, 152, 234, 454, 10, 70, 300, 105, 334, 127, 356, 93, 323, 58,
  288, 172, 397, 150, 379, 132, 361,
];

const dist = (a: Pt, b: Pt) => Math.hypot(a[0] - b[0], a[1] - b[1]);

export function interocular(mesh: Pt[]): number {
  return dist(mesh[MESH.rightEyeOuter], mesh[MESH.leftEyeOuter]);
}

/** Mean eye aspect ratio of both eyes (Soukupová & Čech 2016 adapted to the mesh). */
export function eyeAspectRatio(mesh: Pt[]): number {
  const r =
    (dist(mesh[MESH.rightEyeUpper[0]], mesh[MESH.rightEyeLower[0]]) +
      dist(mesh[MESH.rightEyeUpper[1]], mesh[MESH.rightEyeLower[1]])) /
    (2 * dist(mesh[MESH.rightEyeOuter], mesh[MESH.rightEyeInner]));
  const l =
    (dist(mesh[MESH.leftEyeUpper[0]], mesh[MESH.leftEyeLower[0]]) +
      dist(mesh[MESH.leftEyeUpper[1]], mesh[MESH.leftEyeLower[1]])) /
    (2 * dist(mesh[MESH.leftEyeOuter], mesh[MESH.leftEyeInner]));
  return (r + l) / 2;
}

export function mouthWidthRatio(mesh: Pt[]): number {
  return dist(mesh[MESH.mouthLeft], mesh[MESH.mouthRight]) / interocular(mesh);
}

/** Solves A x = b (n×n) by Gaussian elimination with partial pivoting; null when singular. */
export function solve(A: number[][], b: number[]): number[] | null {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    if (Math.abs(M[p][c]) < 1e-12) return null;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((row, i) => row[n] / M[i][i]);
}

/** Least-squares homography src→dst (h33 = 1) from ≥4 correspondences; null when degenerate. */
export function fitHomography(src: Pt[], dst: Pt[]): number[] | null {
  const AtA = Array.from({ length: 8 }, () => new Array(8).fill(0));
  const Atb = new Array(8).fill(0);
  const add = (row: number[], v: number) => {
    for (let i = 0; i < 8; i++) {
      Atb[i] += row[i] * v;
      for (let j = 0; j < 8; j++) AtA[i][j] += row[i] * row[j];
    }
  };
  for (let i = 0; i < src.length; i++) {
    const [x, y] = src[i];
    const [u, v] = dst[i];
    add([x, y, 1, 0, 0, 0, -u * x, -u * y], u);
    add([0, 0, 0, x, y, 1, -v * x, -v * y], v);
  }
  const h = solve(AtA, Atb);
  return h ? [...h, 1] : null;
}

export function applyHomography(h: number[], p: Pt): Pt {
  const w = h[6] * p[0] + h[7] * p[1] + h[8];
  return [(h[0] * p[0] + h[1] * p[1] + h[2]) / w, (h[3] * p[0] + h[4] * p[1] + h[5]) / w];
}

/** Normalises points (centroid 0, mean distance √2) for a well-conditioned fit. */
function normalise(pts: Pt[]): Pt[] {
  const cx = pts.reduce((s, p) => s + p[0], 0) / pts.length;
  const cy = pts.reduce((s, p) => s + p[1], 0) / pts.length;
  const md = pts.reduce((s, p) => s + Math.hypot(p[0] - cx, p[1] - cy), 0) / pts.length || 1;
  const k = Math.SQRT2 / md;
  return pts.map((p) => [(p[0] - cx) * k, (p[1] - cy) * k]);
}

/**
 * How far the landmark motion between two frames is from a planar motion: RMS residual of the best
 * homography, in units of the inter-ocular distance. A flat photo or screen moved/tilted in front of
 * the camera gives ≈ mesh jitter only; a real head turning or changing expression gives parallax and
 * deformation that no homography explains.
 */
export function planarResidual(meshA: Pt[], meshB: Pt[], indices: number[] = PLANARITY_POINTS): number {
  const a = normalise(indices.map((i) => meshA[i]));
  const b0 = indices.map((i) => meshB[i]);
  const b = normalise(b0);
  const h = fitHomography(a, b);
  if (!h) return 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const q = applyHomography(h, a[i]);
    s += (q[0] - b[i][0]) ** 2 + (q[1] - b[i][1]) ** 2;
  }
  // normalised units: mean distance √2 ≈ half a face width; express relative to inter-ocular distance in the same units
  const ioB = Math.hypot(b[0][0] - b[3][0], b[0][1] - b[3][1]) || 1;
  return Math.sqrt(s / a.length) / ioB;
}
