/**
 * Face matcher (face/match.ts): alignment geometry, the decision rule, a missing model, and corpus
 * pairs through the engine's own path (Human full pass → descriptor → decideFaceMatch with the
 * default thresholds). Corpus cases skip with a message when the corpus is absent.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { similarity, warpSimilarity, type P2 } from '../../src/engine/face/align.ts';
import { decideFaceMatch, dlibChip, faceDistance, loadFaceMatcher } from '../../src/engine/face/match.ts';
import { loadHuman, type HumanModels } from '../../src/engine/models/human.ts';
import { DEFAULT_THRESHOLDS } from '../../src/engine/config.ts';
import type { RgbFrame } from '../../src/engine/decode.ts';
import { CORPUS_SKIP, corpusDir } from './helpers.ts';

test('align: the least-squares similarity recovers a known rotation, scale and shift', () => {
  const src: P2[] = [
    [10, 10],
    [50, 12],
    [30, 40],
    [15, 60],
    [45, 61],
  ];
  const ang = 0.3;
  const sc = 1.7;
  const a = sc * Math.cos(ang);
  const b = sc * Math.sin(ang);
  const dst = src.map(([x, y]): P2 => [a * x - b * y + 5, b * x + a * y - 3]);
  const t = similarity(src, dst);
  [a, b, 5, -3].forEach((v, i) => assert.ok(Math.abs(t[i] - v) < 1e-9, `param ${i}: ${t[i]} vs ${v}`));
  // identity warp reproduces the frame
  const frame: RgbFrame = {
    width: 4,
    height: 4,
    data: new Uint8Array(48).map((_, i) => i * 5),
    t: 0,
    index: 0,
  } as RgbFrame;
  assert.deepEqual(Array.from(warpSimilarity(frame, [1, 0, 0, 0], 4)), Array.from(frame.data));
});

test('match: decision uses the mean of the 2 closest frames; accept < 0.6, review, refuse >= 0.7', () => {
  const th = DEFAULT_THRESHOLDS;
  const v = (x: number) => [x, 0];
  assert.equal(faceDistance([0, 0], [3, 4]), 5);
  assert.equal(decideFaceMatch(v(0), [v(0.5), v(0.55), v(2)], th).status, 'pass');
  assert.ok(Math.abs(decideFaceMatch(v(0), [v(0.5), v(0.55), v(2)], th).distance - 0.525) < 1e-12);
  assert.equal(decideFaceMatch(v(0), [v(0.6), v(0.65)], th).status, 'inconclusive');
  assert.equal(decideFaceMatch(v(0), [v(0.7)], th).status, 'fail');
  assert.throws(() => decideFaceMatch(v(0), [], th), /no face descriptor/);
  assert.throws(
    () => dlibChip({ width: 1, height: 1, data: new Uint8Array(3), t: 0, index: 0 } as RgbFrame, [[0, 0]]),
    /468 needed/,
  );
});

test('match: a missing face-api model is a thrown error at load', async () => {
  await assert.rejects(loadFaceMatcher({ modelsDir: '/nonexistent/face-api-models' }), /face-api model missing/);
});

let human: HumanModels | undefined;
before(async () => {
  if (!CORPUS_SKIP) human = await loadHuman();
});

async function descriptor(file: string): Promise<number[]> {
  const { data, info } = await sharp(join(corpusDir()!, file))
    .rotate()
    .resize({ width: 1280, height: 1280, fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const frame = { data, width: info.width, height: info.height, t: 0, index: 0 } as RgbFrame;
  const faces = (await human!.detect(frame, true)).filter(
    (f) => f.score >= DEFAULT_THRESHOLDS.minFaceScore && f.embedding?.length,
  );
  const f = faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
  assert.ok(f, `a face with a descriptor in ${file}`);
  assert.equal(f.embedding!.length, 128);
  return f.embedding!;
}

test('match (corpus): same person accepted, different people refused, document portraits compared', {
  skip: CORPUS_SKIP,
}, async () => {
  const th = DEFAULT_THRESHOLDS;
  const jolie2 = await descriptor('face-pairs/deepface_img2.jpg');
  const jolie6 = await descriptor('face-pairs/deepface_img6.jpg');
  const obama = await descriptor('face-pairs/facerecognition_obama.jpg');
  const biden = await descriptor('face-pairs/facerecognition_biden.jpg');
  const mustermannId = await descriptor('documents/identitygermany_idcard-old_mustermann_marked.jpeg');
  const mustermannPass = await descriptor('documents/identitygermany_passport_mustermann_marked.jpg');
  const czeWoman = await descriptor('documents/onfido_national_identity_card.jpg');
  const czeMan = await descriptor('documents/passporteye_100_pass-cze.jpg');
  assert.equal(decideFaceMatch(jolie2, [jolie6], th).status, 'pass', 'jolie img2 ~ img6');
  assert.equal(decideFaceMatch(mustermannId, [mustermannPass], th).status, 'pass', 'Mustermann ID card ~ passport');
  assert.equal(decideFaceMatch(obama, [biden], th).status, 'fail', 'obama ~ biden');
  assert.equal(decideFaceMatch(czeWoman, [czeMan], th).status, 'fail', 'same specimen name, different people');
  // several face frames: the 2 closest decide
  assert.equal(decideFaceMatch(jolie2, [biden, jolie6, jolie6], th).status, 'pass');
});
