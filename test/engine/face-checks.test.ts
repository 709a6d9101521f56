import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_THRESHOLDS } from '../../src/engine/config.ts';
import { faceQualityChecks, livenessCheck } from '../../src/engine/face/checks.ts';
import { planarResidual, fitHomography, applyHomography } from '../../src/engine/face/geometry.ts';
import type { FaceObservation } from '../../src/engine/face/observe.ts';
import type { Challenge } from '../../src/app/ports.ts';

const th = DEFAULT_THRESHOLDS;
// a flat fake mesh (478 points on a grid) so the geometry helpers have something to chew on
const mesh = Array.from({ length: 478 }, (_, i) => [100 + (i % 22) * 5, 100 + Math.floor(i / 22) * 5, 0]);
const obs = (t: number, o: Partial<FaceObservation> = {}): FaceObservation => ({
  frame: Math.round(t * 5),
  t,
  faces: 1,
  score: 0.9,
  box: [100, 100, 120, 150],
  yaw: 0,
  pitch: 0,
  roll: 0,
  whole: true,
  ear: 0.3,
  mouth: 0.5,
  interocular: 60,
  blurVar: 100,
  blur: 0.35,
  luma: 120,
  clippedHigh: 0,
  mesh,
  ...o,
});
const series = (fn: (t: number) => Partial<FaceObservation>, seconds = 6) =>
  Array.from({ length: seconds * 5 }, (_, i) => obs(i / 5, fn(i / 5)));
const live = { maxOutlierShare: 0.3, medianOutlierShare: 0.2, pairs: [{ a: 0, b: 1, points: 50, outlierShare: 0.3 }] };
const flat = { maxOutlierShare: 0.02, medianOutlierShare: 0, pairs: [{ a: 0, b: 1, points: 50, outlierShare: 0.02 }] };
const C = (k: Challenge['kind']): Challenge => ({ kind: k, windowSeconds: 4 });
const pass = (r: ReturnType<typeof livenessCheck>) => r.every((x) => x.status === 'pass');

test('liveness: planar face motion (photo replay) fails 1313 even when it moves', () => {
  const r = livenessCheck(
    series((t) => ({ yaw: 3 * Math.sin(t) })),
    [],
    undefined,
    th,
    flat,
  );
  assert.equal(pass(r), false);
  assert.equal(r.find((x) => x.name === 'face.liveness.non_planar')!.reason, 1313);
});

test('liveness: challenges performed in order pass; wrong order fails', () => {
  // head turns to the person's left at 1-2 s, then right at 3-4 s (yaw > 0 = their left)
  const o = series((t) => ({ yaw: t > 1 && t < 2 ? 20 : t > 3 && t < 4 ? -20 : 0 }));
  assert.equal(pass(livenessCheck(o, [C('turn_left'), C('turn_right')], undefined, th, live)), true);
  const wrong = livenessCheck(o, [C('turn_right'), C('turn_left')], undefined, th, live);
  assert.equal(pass(wrong), false);
  assert.match(wrong.find((x) => x.name === 'face.liveness.challenges')!.note ?? '', /first head movement/);
});

test('liveness: challenge outside its time window fails', () => {
  const o = series((t) => ({ yaw: t > 1 && t < 2 ? 20 : t > 3 && t < 4 ? -20 : 0 }));
  // turn_right shown at 4.5 s: the right turn at 3-4 s happened before it was asked for
  assert.equal(
    pass(livenessCheck(o, [C('turn_left'), { kind: 'turn_right', windowSeconds: 1 }], [0.5, 4.5], th, live)),
    false,
  );
  assert.equal(pass(livenessCheck(o, [C('turn_left'), C('turn_right')], [0.5, 2.5], th, live)), true);
});

test('liveness: blink and smile challenges', () => {
  const o = series((t) => ({ ear: t > 1.9 && t < 2.3 ? 0.1 : 0.3, mouth: t > 3.5 && t < 4.5 ? 0.6 : 0.5 }));
  assert.equal(pass(livenessCheck(o, [C('blink'), C('smile')], undefined, th, live)), true);
  assert.equal(pass(livenessCheck(o, [C('smile'), C('blink')], undefined, th, live)), false);
  assert.equal(
    pass(
      livenessCheck(
        series(() => ({})),
        [C('blink')],
        undefined,
        th,
        live,
      ),
    ),
    false,
    'no blink',
  );
});

test('face quality: presence, frontal, blur, lighting codes', () => {
  const none = faceQualityChecks(
    series(() => ({ faces: 0 })),
    th,
  );
  assert.equal(none.find((c) => c.name === 'face.presence')!.status, 'fail');
  const profile = faceQualityChecks(
    series(() => ({ yaw: 45 })),
    th,
  );
  assert.equal(profile.find((c) => c.reason === 1312)!.status, 'fail');
  const blurry = faceQualityChecks(
    series(() => ({ blur: 0.8 })),
    th,
  );
  assert.equal(blurry.find((c) => c.reason === 1310)!.status, 'fail');
  const dark = faceQualityChecks(
    series(() => ({ luma: 20 })),
    th,
  );
  assert.equal(dark.find((c) => c.reason === 1320)!.status, 'fail');
  const burnt = faceQualityChecks(
    series(() => ({ luma: 200, clippedHigh: 0.6 })),
    th,
  );
  assert.equal(burnt.find((c) => c.reason === 1320)!.status, 'fail');
  const good = faceQualityChecks(
    series(() => ({})),
    th,
  );
  assert.ok(good.every((c) => c.status === 'pass'));
});

test('geometry: homography fit recovers a perspective map; planar residual ≈ 0 for a plane', () => {
  const src = [
    [0, 0],
    [10, 0],
    [10, 10],
    [0, 10],
    [5, 5],
    [2, 7],
  ];
  const H = [1.1, 0.1, 3, -0.05, 0.9, 2, 0.001, 0.002, 1];
  const dst = src.map((p) => applyHomography(H, p));
  const h = fitHomography(src, dst)!;
  for (let i = 0; i < src.length; i++) {
    const q = applyHomography(h, src[i]);
    assert.ok(Math.hypot(q[0] - dst[i][0], q[1] - dst[i][1]) < 1e-6);
  }
  const warped = mesh.map((p) => applyHomography(H, p));
  assert.ok(planarResidual(mesh, warped) < 1e-6);
});
