/**
 * Liveness benchmark: every corpus face clip (real people) and still-photo replay fixtures made
 * from corpus photos (moved in 2-D, with and without tilt) through the engine's face observation
 * and liveness checks. Usage: tsx bench/engine/liveness.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMedia } from '../../src/engine/decode.ts';
import { DEFAULT_ENGINE_CONFIG } from '../../src/engine/config.ts';
import { loadHuman } from '../../src/engine/models/human.ts';
import { observeFaces } from '../../src/engine/face/observe.ts';
import { livenessCheck } from '../../src/engine/face/checks.ts';
import { makeReplayFaceVideo } from '../../src/engine/fixtures/generate.ts';
import type { Challenge } from '../../src/app/ports.ts';
import { loadLabels, mediaDir } from './corpus.ts';
import { loadOpenCv } from '../../src/engine/models/opencv.ts';
import { textureMotionPlanarity } from '../../src/engine/face/planarity.ts';

const dir = mediaDir();
if (!dir) {
  console.log('corpus not found (set KYCLIVE_MEDIA_DIR): skipped');
  process.exit(0);
}
const labels = loadLabels(dir);
const cfg = DEFAULT_ENGINE_CONFIG;
const th = cfg.thresholds;
const human = await loadHuman();
const { cv } = await loadOpenCv();
const tmp = mkdtempSync(join(tmpdir(), 'kyclive-live-'));
const c = (k: Challenge['kind']): Challenge => ({ kind: k, windowSeconds: 5 });
const cases: { name: string; path: string; live: boolean; scripts: [Challenge[], boolean | null][] }[] = [];
for (const v of labels.faces_video) {
  const scripts: [Challenge[], boolean | null][] = [[[], true]];
  if (v.head_turns_left_right)
    scripts.push([[c('turn_right'), c('turn_left')], true], [[c('turn_left'), c('turn_right')], false]);
  else scripts.push([[c('turn_left'), c('turn_right')], false]);
  cases.push({ name: v.file, path: join(dir, v.file), live: true, scripts });
}
const photos = [
  'face-pairs/deepface_img11.jpg',
  'face-pairs/deepface_img6.jpg',
  'face-pairs/facerecognition_obama.jpg',
  'spoofs/silentface_image_T1.jpg',
  'face-pairs/deepface_img8.jpg',
];
for (const [i, p] of photos.entries()) {
  for (const tilt of [0, 0.15]) {
    const out = join(tmp, `replay-${i}-${tilt}.mp4`);
    await makeReplayFaceVideo(join(dir, p), out, { seconds: 4, tilt, seed: i + 1 });
    cases.push({
      name: `replay(${p.split('/')[1]}, tilt ${tilt})`,
      path: out,
      live: false,
      scripts: [
        [[], false],
        [[c('turn_left'), c('turn_right')], false],
      ],
    });
  }
}
console.log(
  'clip | truth | texture outlier share max (mesh residual p90) | yaw spread | pitch spread | no-challenge verdict | scripted verdicts | ms/frame',
);
let wrong = 0;
for (const k of cases) {
  const d = await decodeMedia(k.path, 'video/mp4', {
    ffmpegPath: cfg.ffmpegPath,
    fps: cfg.faceSampleFps,
    width: cfg.faceFrameWidth,
    maxFrames: cfg.maxFramesPerMedium,
    timeoutMs: 60000,
  });
  const t0 = performance.now();
  const obs = await observeFaces(d.frames, human, { minFaceScore: th.minFaceScore, fullFrames: 0 });
  const ms = (performance.now() - t0) / Math.max(1, d.frames.length);
  const t1 = performance.now();
  const pl = textureMotionPlanarity(cv, d.frames, obs, { fps: cfg.faceSampleFps, maxPairs: 8 });
  const plMs = performance.now() - t1;
  const verdicts = k.scripts.map(([script, expectPass]) => {
    const r = livenessCheck(obs, script, undefined, th, pl);
    const pass = r.every((x) => x.status === 'pass');
    if (expectPass !== null && pass !== expectPass) wrong++;
    return {
      script: script.map((s) => s.kind).join('>') || 'none',
      pass,
      expectPass,
      m: r[0].measurement as Record<string, number>,
    };
  });
  const m = verdicts[0].m;
  console.log(
    `${k.name} | ${k.live ? 'live' : 'replay'} | ${m.textureOutlierShareMax} (mesh ${m.meshPlanarResidualP90}) | ${m.yawSpreadDeg} | ${m.pitchSpreadDeg} | ${verdicts.map((v) => `${v.script}:${v.pass ? 'pass' : 'fail'}${v.pass === v.expectPass ? '' : ' (WRONG)'}`).join(', ')} | ${ms.toFixed(0)} | texture outliers max ${pl.maxOutlierShare} median ${pl.medianOutlierShare} ${plMs.toFixed(0)}ms`,
  );
}
console.log(`liveness decisions wrong: ${wrong}`);
rmSync(tmp, { recursive: true, force: true });
