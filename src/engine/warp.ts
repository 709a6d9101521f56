/** Perspective warps over RGB24 buffers (bilinear), used by the fixture generator and document rectification. */
import { fitHomography, applyHomography, type Pt } from './face/geometry.ts';

export interface RgbImage {
  width: number;
  height: number;
  data: Buffer;
}

/** Homography mapping the 4 `from` corners onto the 4 `to` corners. */
export function homographyFrom4(from: Pt[], to: Pt[]): number[] {
  const h = fitHomography(from, to);
  if (!h) throw new Error('degenerate quadrilateral');
  return h;
}

/**
 * Draws `src` into `dst` so that src's corners (TL, TR, BR, BL) land on `quad` in dst.
 * Pixels of dst outside the quad are left untouched.
 */
export function drawWarped(
  dst: RgbImage,
  src: RgbImage,
  quad: Pt[],
  opts: { alphaMask?: (x: number, y: number) => boolean } = {},
): void {
  const srcCorners: Pt[] = [
    [0, 0],
    [src.width - 1, 0],
    [src.width - 1, src.height - 1],
    [0, src.height - 1],
  ];
  const inv = homographyFrom4(quad, srcCorners);
  const minX = Math.max(0, Math.floor(Math.min(...quad.map((p) => p[0]))));
  const maxX = Math.min(dst.width - 1, Math.ceil(Math.max(...quad.map((p) => p[0]))));
  const minY = Math.max(0, Math.floor(Math.min(...quad.map((p) => p[1]))));
  const maxY = Math.min(dst.height - 1, Math.ceil(Math.max(...quad.map((p) => p[1]))));
  const sw = src.width;
  const sh = src.height;
  const s = src.data;
  const d = dst.data;
  for (let y = minY; y <= maxY; y++) {
    for (let x = minX; x <= maxX; x++) {
      const [u, v] = applyHomography(inv, [x, y]);
      if (u < 0 || v < 0 || u > sw - 1 || v > sh - 1) continue;
      if (opts.alphaMask && !opts.alphaMask(u, v)) continue;
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const x1 = Math.min(sw - 1, x0 + 1);
      const y1 = Math.min(sh - 1, y0 + 1);
      const fx = u - x0;
      const fy = v - y0;
      const o = (y * dst.width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const a = s[(y0 * sw + x0) * 3 + c];
        const b = s[(y0 * sw + x1) * 3 + c];
        const e = s[(y1 * sw + x0) * 3 + c];
        const f = s[(y1 * sw + x1) * 3 + c];
        d[o + c] = (a * (1 - fx) + b * fx) * (1 - fy) + (e * (1 - fx) + f * fx) * fy;
      }
    }
  }
}

/** Extracts the quadrilateral `quad` of `src` (TL, TR, BR, BL) into an upright outW×outH image. */
export function rectify(src: RgbImage, quad: Pt[], outW: number, outH: number): RgbImage {
  const out: RgbImage = { width: outW, height: outH, data: Buffer.alloc(outW * outH * 3) };
  const h = homographyFrom4(
    [
      [0, 0],
      [outW - 1, 0],
      [outW - 1, outH - 1],
      [0, outH - 1],
    ],
    quad,
  );
  const sw = src.width;
  const sh = src.height;
  const s = src.data;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const [u, v] = applyHomography(h, [x, y]);
      const o = (y * outW + x) * 3;
      if (u < 0 || v < 0 || u > sw - 1 || v > sh - 1) {
        out.data[o] = out.data[o + 1] = out.data[o + 2] = 255;
        continue;
      }
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const x1 = Math.min(sw - 1, x0 + 1);
      const y1 = Math.min(sh - 1, y0 + 1);
      const fx = u - x0;
      const fy = v - y0;
      for (let c = 0; c < 3; c++) {
        const a = s[(y0 * sw + x0) * 3 + c];
        const b = s[(y0 * sw + x1) * 3 + c];
        const e = s[(y1 * sw + x0) * 3 + c];
        const f = s[(y1 * sw + x1) * 3 + c];
        out.data[o + c] = (a * (1 - fx) + b * fx) * (1 - fy) + (e * (1 - fx) + f * fx) * fy;
      }
    }
  }
  return out;
}
