/**
 * Capture-quality measurements: face blur (Laplacian variance) and lighting on a real clip under
 * ffmpeg blur/darkening/overexposure, and document blur on a generated document video.
 * Usage: tsx bench/engine/quality.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMedia } from '../../src/engine/decode.ts';
import { DEFAULT_ENGINE_CONFIG } from '../../src/engine/config.ts';
import { loadHuman } from '../../src/engine/models/human.ts';
import { loadOpenCv } from '../../src/engine/models/opencv.ts';
import { observeFaces } from '../../src/engine/face/observe.ts';
import { faceQualityChecks } from '../../src/engine/face/checks.ts';
import { analyseDocumentMedium } from '../../src/engine/document/analyse.ts';
import { buildGlyphModel } from '../../src/engine/mrz/glyphs.ts';
import { makeDocumentVideo, renderSpecimen, transformVideo } from '../../src/engine/fixtures/generate.ts';
import { buildTd1 } from '../../src/engine/mrz/parse.ts';
import { median } from '../../src/engine/image.ts';
import { mediaDir } from './corpus.ts';

const cfg = DEFAULT_ENGINE_CONFIG;
const th = cfg.thresholds;
const human = await loadHuman();
const { cv } = await loadOpenCv();
const glyphs = await buildGlyphModel();
const tmp = mkdtempSync(join(tmpdir(), 'kyclive-q-'));
const dir = mediaDir();
if (dir) {
  console.log('face clip | filter | median Laplacian var | median luma | clipped | 1310 | 1320');
  for (const clip of ['liveportrait_driving_d3.mp4', 'liveportrait_driving_d13.mp4', 'liveportrait_driving_d20.mp4']) {
    for (const [name, vf] of [
      ['none', 'null'],
      ['blur σ2', 'gblur=sigma=2'],
      ['blur σ4', 'gblur=sigma=4'],
      ['dark', 'eq=brightness=-0.35'],
      ['overexposed', 'eq=brightness=0.45:contrast=1.3'],
    ] as const) {
      const p = join(tmp, 'q.mp4');
      await transformVideo(join(dir, 'faces-video', clip), p, `scale=480:-2,${vf}`, 3);
      const d = await decodeMedia(p, 'video/mp4', {
        ffmpegPath: cfg.ffmpegPath,
        fps: cfg.faceSampleFps,
        width: cfg.faceFrameWidth,
        maxFrames: 40,
        timeoutMs: 60000,
      });
      const obs = await observeFaces(d.frames, human, { minFaceScore: th.minFaceScore, fullFrames: 0 });
      const q = faceQualityChecks(obs, th);
      const f = obs.filter((o) => o.faces > 0);
      console.log(
        `${clip} | ${name} | ${median(f.map((o) => o.blurVar)).toFixed(1)} / blur effect ${median(f.map((o) => o.blur)).toFixed(3)} | ${median(f.map((o) => o.luma)).toFixed(0)} | ${median(f.map((o) => o.clippedHigh)).toFixed(2)} | ${q.find((c) => c.reason === 1310)?.status ?? '-'} | ${q.find((c) => c.reason === 1320)?.status ?? '-'}`,
      );
    }
  }
}
console.log('document video | blur σ | median Laplacian var');
const mrz = buildTd1({
  state: 'FRA',
  surname: 'DUPONT',
  given: 'MARIE',
  number: 'X4RTBPFW4',
  nationality: 'FRA',
  birth: '900215',
  sex: 'F',
  expiry: '330101',
});
const spec = await renderSpecimen({ mrz });
for (const blur of [0, 2, 4, 8]) {
  const p = join(tmp, `d${blur}.mp4`);
  await makeDocumentVideo(spec, p, { seconds: 2, fps: 10, width: 1280, height: 720, blur });
  const d = await decodeMedia(p, 'video/mp4', {
    ffmpegPath: cfg.ffmpegPath,
    fps: 4,
    width: 1280,
    maxFrames: 24,
    timeoutMs: 60000,
  });
  const a = await analyseDocumentMedium('document_back', d, {
    cv,
    human,
    glyphs,
    minFaceScore: 0.6,
    mrzFrames: 0,
    portraitFrames: 0,
    screenMinFreq: cfg.thresholds.screenMinFrequency,
    screenMinPeakRatio: cfg.thresholds.screenMinPeakRatio,
  });
  console.log(
    `generated card 1280x720 | ${blur} | ${median(a.frames.map((f) => f.blurVar)).toFixed(1)} / blur effect ${median(a.frames.map((f) => f.blur)).toFixed(3)}`,
  );
}
rmSync(tmp, { recursive: true, force: true });
