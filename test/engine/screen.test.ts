/** The screen-lattice signature (2202) on synthetic frames: a 2-D lattice, 1-D stripes, noise, the codec block grid. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenSignature } from '../../src/engine/document/screen.ts';
import type { RgbFrame } from '../../src/engine/decode.ts';

const W = 400;
const H = 300;
function frame(pixel: (x: number, y: number) => number): RgbFrame {
  const data = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const v = Math.max(0, Math.min(255, Math.round(pixel(x, y))));
      data.fill(v, (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
  return { width: W, height: H, data, t: 0, index: 0 };
}
let seed = 7;
const rnd = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const opts = { minFreq: 0.15, minPeakRatio: 20 };
const region = { x: 0, y: 0, w: W, h: H };

test('screen: a 2-D pixel lattice (period 3 px, not frame-aligned to the codec grid) has a strong second direction', () => {
  const s = screenSignature(
    frame((x, y) => 140 + 20 * (rnd() - 0.5) - (x % 3 === 0 || y % 3 === 0 ? 40 : 0)),
    region,
    opts,
  )!;
  assert.ok(s.latticeRatio > 1000, `lattice ${s.latticeRatio}`);
  assert.ok(s.peaks.length >= 2);
});

test('screen: stripes in one direction (text lines, guilloche) are no lattice', () => {
  const s = screenSignature(
    frame((_x, y) => 140 + 20 * (rnd() - 0.5) + 40 * Math.sin((2 * Math.PI * y) / 3.3)),
    region,
    opts,
  )!;
  assert.ok(s.maxRatio > 100, 'the stripes are a strong peak');
  assert.ok(s.latticeRatio < 20, `but no second direction: ${s.latticeRatio}`);
});

test('screen: paper-like noise has no periodic peak', () => {
  const s = screenSignature(
    frame(() => 140 + 40 * (rnd() - 0.5)),
    region,
    opts,
  )!;
  assert.equal(s.latticeRatio, 0);
  assert.ok(s.maxRatio < 20, `max ${s.maxRatio}`);
});

test('screen: an 8-px block grid aligned with the frame (JPEG/H.264 blocks) is ignored', () => {
  const s = screenSignature(
    frame((x, y) => 140 + 20 * (rnd() - 0.5) - (x % 8 === 0 || y % 8 === 0 ? 40 : 0)),
    region,
    opts,
  )!;
  assert.ok(s.latticeRatio < 20, `lattice ${s.latticeRatio}`);
});

test('screen: a region smaller than one 128 px tile is not measured', () => {
  assert.equal(
    screenSignature(
      frame(() => 128),
      { x: 0, y: 0, w: 150, h: 150 },
      opts,
    ),
    null,
  );
});
