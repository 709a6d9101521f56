/**
 * End-to-end engine sessions from generated fixtures (small, a few seconds each, made in a temp
 * dir at test time). Face videos come from corpus stills/clips; those sessions skip without it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createEngine, type Engine } from '../../src/engine/index.ts';
import {
  makeBrokenVideo,
  makeDocumentVideo,
  makeReplayFaceVideo,
  renderSpecimen,
  transformVideo,
} from '../../src/engine/fixtures/generate.ts';
import { buildTd1 } from '../../src/engine/mrz/parse.ts';
import { runAnalyzeCli } from '../../src/engine/cli.ts';
import type { AnalysisInput, AnalysisMedia } from '../../src/app/ports.ts';
import { CORPUS_SKIP, FONT_SKIP, corpusDir, tempDir } from './helpers.ts';

const tmp = tempDir();
let engine: Engine;
const NOW = new Date('2026-11-26T12:00:00Z');
const p = (n: string) => join(tmp.dir, n);
const media = (path: string, step: AnalysisMedia['step']): AnalysisMedia => ({
  path,
  step,
  contentType: path.endsWith('.png') ? 'image/png' : 'video/mp4',
  sha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
});
const input = (m: AnalysisMedia[], extra: Partial<AnalysisInput> = {}): AnalysisInput => ({
  verificationId: 'v-test',
  method: 'liveness',
  media: m,
  challenges: [],
  metadata: {},
  ...extra,
});
const statusOf = (r: { evidence: Record<string, unknown> }, name: string) =>
  (r.evidence.checks as { name: string; status: string }[]).find((c) => c.name === name)?.status;

before(async () => {
  if (FONT_SKIP) return;
  const corpus = corpusDir();
  const good = buildTd1({
    state: 'FRA',
    surname: 'DUPONT',
    given: 'MARIE CLAIRE',
    number: 'X4RTBPFW4',
    nationality: 'FRA',
    birth: '900215',
    sex: 'F',
    expiry: '330101',
  });
  const bad = buildTd1({
    state: 'FRA',
    surname: 'DURAND',
    given: 'PAUL',
    number: 'L0ST12345',
    nationality: 'FRA',
    birth: '800101',
    sex: 'M',
    expiry: '200101',
  });
  const portrait = corpus ? join(corpus, 'face-pairs/deepface_img11.jpg') : undefined;
  const small = { seconds: 2, fps: 10, width: 800, height: 450 };
  await makeDocumentVideo(await renderSpecimen({ mrz: good, portrait }), p('front.mp4'), small);
  await makeDocumentVideo(await renderSpecimen({ mrz: good }), p('back.mp4'), { ...small, seed: 5 });
  await makeDocumentVideo(await renderSpecimen({ mrz: bad, portrait }), p('grey-front.mp4'), {
    ...small,
    greyscale: true,
  });
  await makeDocumentVideo(await renderSpecimen({ mrz: bad }), p('grey-back.mp4'), {
    ...small,
    greyscale: true,
    seed: 5,
  });
  await makeDocumentVideo(await renderSpecimen({ mrz: good, portrait }), p('blurred-front.mp4'), { ...small, blur: 6 });
  await makeDocumentVideo(await renderSpecimen({ mrz: good, portrait }), p('screen-front.mp4'), {
    ...small,
    screen: true,
  });
  // an ID-1 front without MRZ: the number is printed in the visual zone only (not in OCR-B)
  await makeDocumentVideo(
    await renderSpecimen({ mrz: good, portrait, printMrz: false, documentNumber: 'X4RTBPFW4' }),
    p('viz-front.mp4'),
    small,
  );
  makeBrokenVideo(p('broken.mp4'));
  if (corpus) {
    await makeReplayFaceVideo(join(corpus, 'face-pairs/deepface_img6.jpg'), p('replay.mp4'), {
      seconds: 3,
      fps: 10,
      width: 320,
      height: 320,
      tilt: 0.15,
    });
    await transformVideo(join(corpus, 'faces-video/liveportrait_driving_d3.mp4'), p('live.mp4'), 'scale=320:320', 2.5);
    await transformVideo(
      join(corpus, 'faces-video/liveportrait_driving_d3.mp4'),
      p('dark.mp4'),
      'scale=320:320,eq=brightness=-0.4',
      2,
    );
  }
  engine = await createEngine({ now: () => NOW, denylist: ['L0ST12345'] });
});
after(async () => {
  await engine?.close();
  tmp.cleanup();
});

test('engine: photo replay face + genuine document → refused 1313 only, fields extracted, report and evidence', {
  skip: CORPUS_SKIP || FONT_SKIP,
}, async () => {
  const r = await engine.analyze(
    input(
      [media(p('front.mp4'), 'document_front'), media(p('back.mp4'), 'document_back'), media(p('replay.mp4'), 'face')],
      { expected: { firstname: 'Marie-Claire', lastname: 'Dupont', birthday: '1990-02-15' } },
    ),
  );
  assert.equal(r.score, 0, r.comment);
  assert.ok(r.reasons.includes(1313), `reasons ${r.reasons}`);
  assert.ok(
    !r.reasons.some((c) => c >= 2000 && c !== 2304),
    `no refusal besides a possible face mismatch: ${r.reasons}`,
  );
  assert.equal(r.extracted?.lastname, 'DUPONT');
  assert.equal(r.extracted?.documentNumber, 'X4RTBPFW4');
  assert.equal(r.extracted?.expiryDate, '2033-01-01');
  assert.equal(statusOf(r, 'identity.match'), 'pass');
  assert.equal(statusOf(r, 'mrz.check_digits'), 'pass');
  assert.equal(statusOf(r, 'document.dynamic_view'), 'pass');
  assert.equal(statusOf(r, 'face.liveness.non_planar'), 'fail');
  assert.equal(r.report.pdf.subarray(0, 4).toString(), '%PDF');
  assert.equal(r.report.sha256, createHash('sha256').update(r.report.pdf).digest('hex'));
  assert.ok((r.evidence.timingsMs as Record<string, number>).total > 0);
  assert.ok(Array.isArray(r.evidence.models));
  assert.ok(r.keyFrames?.some((k) => k.step === 'document_front'));
  // face match: the card carries deepface_img11, the replayed photo is deepface_img6 (same person)
  const fm = (
    r.evidence.checks as { name: string; status: string; measurement: { distance?: number; model?: string } }[]
  ).find((c) => c.name === 'face.match_document');
  assert.equal(fm?.status, 'pass', `same person through the whole engine: ${JSON.stringify(fm?.measurement)}`);
  assert.ok(!r.reasons.includes(2304));
  assert.match(String(fm?.measurement.model), /face_recognition_model/);
  assert.ok(
    (r.evidence.models as { name: string }[]).some((m) => /face_recognition_model/.test(m.name)),
    'matcher model recorded',
  );
});

test('engine: live head-turn clip performing its challenge passes liveness; wrong identity → 2401', {
  skip: CORPUS_SKIP || FONT_SKIP,
}, async () => {
  const r = await engine.analyze(
    input(
      [media(p('front.mp4'), 'document_front'), media(p('back.mp4'), 'document_back'), media(p('live.mp4'), 'face')],
      {
        challenges: [{ kind: 'turn_right', windowSeconds: 3 }],
        expected: { firstname: 'Paul', lastname: 'Martin', birthday: '1990-02-15' },
      },
    ),
  );
  assert.equal(statusOf(r, 'face.liveness.non_planar'), 'pass');
  assert.equal(statusOf(r, 'face.liveness.challenges'), 'pass');
  assert.ok(!r.reasons.includes(1313), `reasons ${r.reasons}`);
  assert.ok(r.reasons.includes(2401), `reasons ${r.reasons}`);
  assert.equal(r.score, 0);
});

test('engine: greyscale photocopy of an expired, denylisted document → 2201, 2101, 2302', {
  skip: CORPUS_SKIP || FONT_SKIP,
}, async () => {
  const r = await engine.analyze(
    input([
      media(p('grey-front.mp4'), 'document_front'),
      media(p('grey-back.mp4'), 'document_back'),
      media(p('replay.mp4'), 'face'),
    ]),
  );
  for (const code of [2201, 2101, 2302]) assert.ok(r.reasons.includes(code), `missing ${code} in ${r.reasons}`);
  assert.equal(r.score, 0);
});

test('engine: a document shown on a screen → 2202 (pixel lattice); the same document on paper passes the screen check', {
  skip: FONT_SKIP,
}, async () => {
  const r = await engine.analyze(
    input([media(p('screen-front.mp4'), 'document_front'), media(p('back.mp4'), 'document_back')]),
  );
  assert.ok(r.reasons.includes(2202), `reasons ${r.reasons}`);
  assert.equal(statusOf(r, 'document.screen'), 'fail');
  const paper = await engine.analyze(
    input([media(p('front.mp4'), 'document_front'), media(p('back.mp4'), 'document_back')]),
  );
  assert.equal(statusOf(paper, 'document.screen'), 'pass');
  assert.ok(!paper.reasons.includes(2202));
});

test("engine: the front's printed number against the back's MRZ: same card passes; the Czech specimen's front and back are different cards → 2303", {
  skip: CORPUS_SKIP || FONT_SKIP,
}, async () => {
  const same = await engine.analyze(
    input([media(p('viz-front.mp4'), 'document_front'), media(p('back.mp4'), 'document_back')]),
  );
  assert.equal(statusOf(same, 'document.viz_number'), 'pass');
  assert.ok(!same.reasons.includes(2303), `reasons ${same.reasons}`);
  const docs = join(corpusDir()!, 'documents');
  const still = (f: string, step: AnalysisMedia['step']): AnalysisMedia => ({
    path: join(docs, f),
    step,
    contentType: 'image/jpeg',
    sha256: '',
  });
  // labels.json: front number 998000398, back MRZ number 998001343
  const mixed = await engine.analyze(
    input([
      still('onfido_national_identity_card.jpg', 'document_front'),
      still('onfido_back_national_identity_card.jpg', 'document_back'),
    ]),
  );
  assert.equal(statusOf(mixed, 'document.viz_number'), 'fail');
  assert.ok(mixed.reasons.includes(2303), `reasons ${mixed.reasons}`);
});

test('engine: blurred document video and a face filmed in the dark → 1301 and 1320', {
  skip: CORPUS_SKIP || FONT_SKIP,
}, async () => {
  const r = await engine.analyze(
    input([
      media(p('blurred-front.mp4'), 'document_front'),
      media(p('back.mp4'), 'document_back'),
      media(p('dark.mp4'), 'face'),
    ]),
  );
  assert.ok(r.reasons.includes(1301), `reasons ${r.reasons}`);
  assert.ok(r.reasons.includes(1320), `reasons ${r.reasons}`);
  assert.equal(r.score, 0);
});

test('engine: unplayable face video → 1911; automation flag → 2402; 2399 replaces fraud codes when configured', {
  skip: FONT_SKIP,
}, async () => {
  const r = await engine.analyze(
    input(
      [media(p('front.mp4'), 'document_front'), media(p('back.mp4'), 'document_back'), media(p('broken.mp4'), 'face')],
      { metadata: { webdriver: true } },
    ),
  );
  assert.equal(r.score, 0);
  assert.ok(r.reasons.includes(1911), `reasons ${r.reasons}`);
  assert.ok(r.reasons.includes(2402), `reasons ${r.reasons}`);
});

test('engine: a missing ffmpeg or model is a thrown error at creation, never a neutral score', async () => {
  await assert.rejects(createEngine({ ffmpegPath: '/nonexistent/ffmpeg' }), /ffmpeg not found/);
  await assert.rejects(createEngine({ humanModelsDir: '/nonexistent/models' }), /model missing/);
  await assert.rejects(createEngine({ ocrbFontPath: '/nonexistent/OCRB.otf' }), /OCR-B font missing/);
});

test('cli: analyze prints one JSON object with verdict, reasons, extracted fields and timings', {
  skip: FONT_SKIP,
}, async () => {
  let out = '';
  const code = await runAnalyzeCli(
    [
      'analyze',
      '--document',
      p('front.mp4'),
      '--document',
      p('back.mp4'),
      '--face',
      p('broken.mp4'),
      '--now',
      '2026-11-26',
      '--report',
      p('r.pdf'),
      '--json',
    ],
    {
      stdout: (s) => {
        out += s;
      },
      stderr: () => undefined,
    },
  );
  assert.equal(code, 0);
  const j = JSON.parse(out);
  assert.equal(j.verdict, 'refused');
  assert.ok(j.reasons.some((x: { code: number }) => x.code === 1911));
  assert.equal(j.extracted.lastname, 'DUPONT');
  assert.ok(j.evidence.timingsMs.total > 0);
  assert.equal(readFileSync(p('r.pdf')).subarray(0, 4).toString(), '%PDF');
  let err = '';
  assert.equal(
    await runAnalyzeCli(['analyze', '--face', p('broken.mp4')], {
      stdout: () => undefined,
      stderr: (s) => {
        err += s;
      },
    }),
    2,
  );
  assert.match(err, /--document is required/);
});
