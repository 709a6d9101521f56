/**
 * The engine pool: two real engine processes analyse a session's halves in parallel and give the
 * same verdict as the in-process engine; a child killed mid-analysis rejects that session (so the
 * job queue retries it) and is replaced; children that cannot start fail the pool's creation.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../../src/engine/index.ts';
import { createEnginePool, type EnginePool } from '../../src/engine/pool.ts';
import { makeDocumentVideo, makeReplayFaceVideo, renderSpecimen } from '../../src/engine/fixtures/generate.ts';
import { buildTd1 } from '../../src/engine/mrz/parse.ts';
import type { AnalysisInput, AnalysisMedia } from '../../src/app/ports.ts';
import { CORPUS_SKIP, FONT_SKIP, corpusDir, tempDir } from './helpers.ts';

const tmp = tempDir('kyclive-pool-');
const p = (n: string) => join(tmp.dir, n);
const media = (path: string, step: AnalysisMedia['step']): AnalysisMedia => ({
  path,
  step,
  contentType: 'video/mp4',
  sha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
});
const session = (): AnalysisInput => ({
  verificationId: 'v-pool',
  method: 'liveness',
  challenges: [],
  metadata: {},
  media: [
    media(p('front.mp4'), 'document_front'),
    media(p('back.mp4'), 'document_back'),
    media(p('replay.mp4'), 'face'),
  ],
  expected: { firstname: 'Marie', lastname: 'Dupont', birthday: '1990-02-15' },
});
const SKIP = FONT_SKIP || CORPUS_SKIP;
let pool: EnginePool | undefined;

before(async () => {
  if (SKIP) return;
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
  const small = { seconds: 2, fps: 10, width: 800, height: 450 };
  await makeDocumentVideo(
    await renderSpecimen({ mrz, portrait: join(corpusDir()!, 'face-pairs/deepface_img11.jpg') }),
    p('front.mp4'),
    small,
  );
  await makeDocumentVideo(await renderSpecimen({ mrz }), p('back.mp4'), { ...small, seed: 5 });
  await makeReplayFaceVideo(join(corpusDir()!, 'face-pairs/deepface_img6.jpg'), p('replay.mp4'), {
    seconds: 3,
    fps: 10,
    width: 320,
    height: 320,
    tilt: 0.15,
  });
  pool = await createEnginePool({ processes: 2 });
});
after(async () => {
  await pool?.close();
  tmp.cleanup();
});

test("pool: two processes give the in-process engine's verdict, checks and extracted identity", {
  skip: SKIP,
}, async () => {
  assert.equal(new Set(pool!.pids()).size, 2);
  assert.equal(pool!.concurrency, 2);
  const viaPool = await pool!.analyze(session());
  const engine = await createEngine();
  const inProcess = await engine.analyze(session());
  await engine.close();
  assert.deepEqual(viaPool.reasons, inProcess.reasons);
  assert.equal(viaPool.score, inProcess.score);
  assert.deepEqual(viaPool.extracted, inProcess.extracted);
  assert.equal(viaPool.extracted?.documentNumber, 'X4RTBPFW4');
  const statuses = (r: typeof viaPool) =>
    (r.evidence.checks as { name: string; status: string }[]).map((c) => `${c.name}=${c.status}`);
  assert.deepEqual(statuses(viaPool), statuses(inProcess));
  assert.ok(viaPool.reasons.includes(1313), 'the photo replay is still caught through the pool');
  assert.deepEqual(
    viaPool.keyFrames?.map((k) => k.step),
    ['document_front', 'document_back', 'face'],
  );
  assert.equal(viaPool.report.pdf.subarray(0, 4).toString(), '%PDF');
});

test('pool: a child killed during an analysis rejects that session, is replaced, and the next session works', {
  skip: SKIP,
}, async () => {
  const before = pool!.pids();
  const running = pool!.analyze(session());
  await new Promise((r) => setTimeout(r, 300));
  process.kill(before[0], 'SIGKILL');
  await assert.rejects(running, /exited/);
  const r = await pool!.analyze(session());
  assert.ok(r.reasons.includes(1313));
  const after = pool!.pids();
  assert.equal(after.length, 2);
  assert.ok(!after.includes(before[0]), 'the killed child was replaced');
});

test('pool: an aborted session rejects as aborted (the job timeout) and the pool goes on', { skip: SKIP }, async () => {
  const ac = new AbortController();
  const running = pool!.analyze({ ...session(), signal: ac.signal });
  setTimeout(() => ac.abort(), 200);
  await assert.rejects(running, /abort/);
  const r = await pool!.analyze(session());
  assert.ok(r.reasons.includes(1313));
});

test("pool: children that cannot load the engine fail the pool's creation with their reason", {
  skip: FONT_SKIP,
}, async () => {
  await assert.rejects(
    createEnginePool({ processes: 1, config: { ffmpegPath: '/nonexistent/ffmpeg' } }),
    /ffmpeg not found/,
  );
});
