/**
 * Speed and memory: the issue's session (a 10 s 720p document video + an 8 s face video) and a full
 * one (front + back + face), decided end to end: by one in-process engine (one core), and by the
 * pool of two worker processes (src/engine/pool.ts) with one session at a time and with two at
 * once. Also the baseline "pure ffmpeg decode + face detection of the same frames" measured in the
 * same run, and the peak RSS of each worker process. Usage: tsx bench/engine/speed.ts
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../../src/engine/index.ts';
import { createEnginePool } from '../../src/engine/pool.ts';
import { DEFAULT_ENGINE_CONFIG } from '../../src/engine/config.ts';
import { decodeMedia } from '../../src/engine/decode.ts';
import { loadHuman } from '../../src/engine/models/human.ts';
import {
  makeDocumentVideo,
  makeReplayFaceVideo,
  renderSpecimen,
  transformVideo,
} from '../../src/engine/fixtures/generate.ts';
import { buildTd1 } from '../../src/engine/mrz/parse.ts';
import type { AnalysisInput } from '../../src/app/ports.ts';
import { mediaDir, REPO_ROOT } from './corpus.ts';

const dir = join(tmpdir(), 'kyclive-speed-fixtures');
const files = { front: join(dir, 'front.mp4'), back: join(dir, 'back.mp4'), face: join(dir, 'face.mp4') };

async function fixtures() {
  if (Object.values(files).every(existsSync)) return;
  mkdirSync(dir, { recursive: true });
  const corpus = mediaDir();
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
  const portrait = corpus ? join(corpus, 'face-pairs/deepface_img11.jpg') : undefined;
  await makeDocumentVideo(await renderSpecimen({ mrz, portrait }), files.front, {
    seconds: 10,
    fps: 30,
    width: 1280,
    height: 720,
  });
  await makeDocumentVideo(await renderSpecimen({ mrz }), files.back, {
    seconds: 10,
    fps: 30,
    width: 1280,
    height: 720,
    seed: 4,
  });
  if (corpus)
    await transformVideo(join(corpus, 'faces-video/liveportrait_driving_d3.mp4'), files.face, 'scale=720:720', 8);
  else
    await makeReplayFaceVideo(join(REPO_ROOT, 'node_modules/@vladmandic/human/samples/in/ai-face.jpg'), files.face, {
      seconds: 8,
      fps: 30,
      width: 720,
      height: 720,
    });
}

type Kind = 'issue' | 'full';
/** issue: the issue's session (one 10 s 720p document video + an 8 s face video); full: front, back and face. */
const input = (kind: Kind = 'full'): AnalysisInput => ({
  verificationId: 'bench',
  method: 'certified',
  challenges: [
    { kind: 'turn_right', windowSeconds: 4 },
    { kind: 'turn_left', windowSeconds: 4 },
  ],
  metadata: {},
  media: [
    { path: files.front, step: 'document_front', contentType: 'video/mp4', sha256: '' },
    ...(kind === 'full'
      ? [{ path: files.back, step: 'document_back' as const, contentType: 'video/mp4', sha256: '' }]
      : []),
    { path: files.face, step: 'face', contentType: 'video/mp4', sha256: '' },
  ],
});

const med = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[]) => `${xs.map((t) => t.toFixed(0)).join(', ')} ms, median ${med(xs).toFixed(0)} ms`;
/** Peak resident memory of a process (VmHWM), MB. */
const peakMb = (pid: number | 'self') => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
};

async function timed(
  analyze: (i: AnalysisInput) => Promise<unknown>,
  kind: Kind,
  runs: number,
  parallel = 1,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        const t = performance.now();
        await analyze(input(kind));
        times.push(performance.now() - t);
      }),
    );
  }
  return times;
}

if (process.argv[2] === '--in-process') {
  // one engine in its own process: the single-core reference and its peak memory
  const engine = await createEngine();
  await engine.analyze(input('issue')); // warm-up (first-call WASM compilation)
  const out = {
    issue: await timed((i) => engine.analyze(i), 'issue', 3),
    full: await timed((i) => engine.analyze(i), 'full', 3),
    peakRssMb: peakMb('self'),
  };
  await engine.close();
  console.log(JSON.stringify(out));
} else {
  await fixtures();
  const cfg = DEFAULT_ENGINE_CONFIG;
  // baseline: pure decode of the same sampled frames + Human face detection of the face frames (issue session)
  const human = await loadHuman();
  const t0 = performance.now();
  const [df, dface] = await Promise.all([
    decodeMedia(files.front, 'video/mp4', {
      ffmpegPath: cfg.ffmpegPath,
      fps: cfg.documentSampleFps,
      width: cfg.documentFrameWidth,
      maxFrames: cfg.maxDocumentFrames,
      timeoutMs: 60000,
    }),
    decodeMedia(files.face, 'video/mp4', {
      ffmpegPath: cfg.ffmpegPath,
      fps: cfg.faceSampleFps,
      width: cfg.faceFrameWidth,
      maxFrames: cfg.maxFramesPerMedium,
      timeoutMs: 60000,
    }),
  ]);
  const tDecode = performance.now() - t0;
  for (const f of dface.frames) await human.detect(f, false);
  const baseline = performance.now() - t0;
  console.log(
    `baseline (issue session): decode ${tDecode.toFixed(0)} ms (${df.frames.length}+${dface.frames.length} frames) + face detection = ${baseline.toFixed(0)} ms`,
  );
  const child = await new Promise<{ issue: number[]; full: number[]; peakRssMb: number }>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--in-process'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('close', (c) =>
      c === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`exit ${c}`)),
    );
  });
  console.log(
    `one process (in-process engine), issue session: ${fmt(child.issue)}; ratio to baseline ${(med(child.issue) / baseline).toFixed(2)}`,
  );
  console.log(
    `one process (in-process engine), full session (front+back+face): ${fmt(child.full)}; peak RSS ${child.peakRssMb} MB`,
  );
  const pool = await createEnginePool({ processes: 2 });
  await pool.analyze(input('issue')); // warm-up
  const poolIssue = await timed((i) => pool.analyze(i), 'issue', 5);
  console.log(
    `pool of two worker processes, one session at a time, issue session: ${fmt(poolIssue)}; ratio to baseline ${(med(poolIssue) / baseline).toFixed(2)}`,
  );
  console.log(
    `pool of two worker processes, one session at a time, full session: ${fmt(await timed((i) => pool.analyze(i), 'full', 3))}`,
  );
  console.log(
    `pool of two worker processes, two sessions at once, issue session: ${fmt(await timed((i) => pool.analyze(i), 'issue', 3, 2))}`,
  );
  console.log(
    `pool of two worker processes, two sessions at once, full session: ${fmt(await timed((i) => pool.analyze(i), 'full', 2, 2))}`,
  );
  console.log(
    `peak RSS per worker process: ${pool
      .pids()
      .map((pid) => `${peakMb(pid)} MB`)
      .join(' / ')}; pool parent (no models) ${peakMb('self')} MB incl. the baseline's Human`,
  );
  await pool.close();
}
