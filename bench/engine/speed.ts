/**
 * Speed and memory: a 10 s 720p document video (front) + a 10 s back + an 8 s face video, decided
 * end to end. Reports the median engine time per session, the same with two worker processes in
 * parallel, the baseline "pure ffmpeg decode + face detection of the same frames", and peak RSS.
 * Usage: tsx bench/engine/speed.ts [--worker N]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../../src/engine/index.ts';
import { DEFAULT_ENGINE_CONFIG } from '../../src/engine/config.ts';
import { decodeMedia } from '../../src/engine/decode.ts';
import { loadHuman } from '../../src/engine/models/human.ts';
import { makeDocumentVideo, makeReplayFaceVideo, renderSpecimen, transformVideo } from '../../src/engine/fixtures/generate.ts';
import { buildTd1 } from '../../src/engine/mrz/parse.ts';
import type { AnalysisInput } from '../../src/app/ports.ts';
import { mediaDir, REPO_ROOT } from './corpus.ts';

const dir = join(tmpdir(), 'kyclive-speed-fixtures');
const files = { front: join(dir, 'front.mp4'), back: join(dir, 'back.mp4'), face: join(dir, 'face.mp4') };

async function fixtures() {
  if (Object.values(files).every(existsSync)) return;
  mkdirSync(dir, { recursive: true });
  const corpus = mediaDir();
  const mrz = buildTd1({ state: 'FRA', surname: 'DUPONT', given: 'MARIE', number: 'X4RTBPFW4', nationality: 'FRA', birth: '900215', sex: 'F', expiry: '330101' });
  const portrait = corpus ? join(corpus, 'face-pairs/deepface_img11.jpg') : undefined;
  await makeDocumentVideo(await renderSpecimen({ mrz, portrait }), files.front, { seconds: 10, fps: 30, width: 1280, height: 720 });
  await makeDocumentVideo(await renderSpecimen({ mrz }), files.back, { seconds: 10, fps: 30, width: 1280, height: 720, seed: 4 });
  if (corpus) await transformVideo(join(corpus, 'faces-video/liveportrait_driving_d3.mp4'), files.face, 'scale=720:720', 8);
  else await makeReplayFaceVideo(join(REPO_ROOT, 'node_modules/@vladmandic/human/samples/in/ai-face.jpg'), files.face, { seconds: 8, fps: 30, width: 720, height: 720 });
}

const input = (): AnalysisInput => ({
  verificationId: 'bench', method: 'certified', challenges: [{ kind: 'turn_right', windowSeconds: 4 }, { kind: 'turn_left', windowSeconds: 4 }], metadata: {},
  media: [{ path: files.front, step: 'document_front', contentType: 'video/mp4', sha256: '' }, { path: files.back, step: 'document_back', contentType: 'video/mp4', sha256: '' }, { path: files.face, step: 'face', contentType: 'video/mp4', sha256: '' }],
});

async function worker(runs: number): Promise<number[]> {
  const engine = await createEngine();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) { const t = performance.now(); await engine.analyze(input()); times.push(performance.now() - t); }
  await engine.close();
  return times;
}

const med = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (process.argv[2] === '--worker') {
  let peak = 0;
  const iv = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 25);
  const times = await worker(Number(process.argv[3] ?? 2));
  clearInterval(iv);
  console.log(JSON.stringify({ times, peakRssMb: Math.round(peak / 1e6) }));
} else {
  await fixtures();
  const cfg = DEFAULT_ENGINE_CONFIG;
  // baseline: pure decode of the same sampled frames + Human face detection of the face frames
  const human = await loadHuman();
  const t0 = performance.now();
  const [df, db, dface] = await Promise.all([
    decodeMedia(files.front, 'video/mp4', { ffmpegPath: cfg.ffmpegPath, fps: cfg.documentSampleFps, width: cfg.documentFrameWidth, maxFrames: 40, timeoutMs: 60000 }),
    decodeMedia(files.back, 'video/mp4', { ffmpegPath: cfg.ffmpegPath, fps: cfg.documentSampleFps, width: cfg.documentFrameWidth, maxFrames: 40, timeoutMs: 60000 }),
    decodeMedia(files.face, 'video/mp4', { ffmpegPath: cfg.ffmpegPath, fps: cfg.faceSampleFps, width: cfg.faceFrameWidth, maxFrames: cfg.maxFramesPerMedium, timeoutMs: 60000 }),
  ]);
  const tDecode = performance.now() - t0;
  for (const f of dface.frames) await human.detect(f, false);
  const baseline = performance.now() - t0;
  console.log(`baseline: decode ${tDecode.toFixed(0)} ms (${df.frames.length}+${db.frames.length}+${dface.frames.length} frames) + face detection = ${baseline.toFixed(0)} ms`);
  const run = (n: number) => new Promise<{ times: number[]; peakRssMb: number }>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--worker', String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = ''; p.stdout.on('data', (d) => { out += d; });
    p.on('close', (c) => (c === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`worker exit ${c}`))));
  });
  const one = await run(3);
  console.log(`one worker: session times ${one.times.map((t) => t.toFixed(0)).join(', ')} ms, median ${med(one.times).toFixed(0)} ms, peak RSS ${one.peakRssMb} MB, ratio to baseline ${(med(one.times) / baseline).toFixed(2)}`);
  const two = await Promise.all([run(2), run(2)]);
  const all = two.flatMap((w) => w.times);
  console.log(`two workers in parallel: session times ${all.map((t) => t.toFixed(0)).join(', ')} ms, median ${med(all).toFixed(0)} ms, peak RSS ${two.map((w) => w.peakRssMb).join(' / ')} MB`);
}
