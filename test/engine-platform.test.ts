/**
 * The platform with the real engine behind its analysis port (KYCLIVE_ANALYZER=engine, as
 * `npm start` runs it): media uploaded through the capture API are decrypted for the engine, its
 * verdict reaches the integrator in kycliveness.update, and PUT kycliveness imports the report
 * and the document captures it chose.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { openPgliteThread } from '../src/storage/db/pglite-thread.ts';
import {
  makeBrokenVideo,
  makeDocumentVideo,
  makeReplayFaceVideo,
  renderSpecimen,
} from '../src/engine/fixtures/generate.ts';
import { buildTd1 } from '../src/engine/mrz/parse.ts';
import { FONT_SKIP, corpusDir, tempDir } from './engine/helpers.ts';
import { startTestServer, call, type TestServer } from './helpers/runtime.ts';
import { startReceiver } from './helpers/webhook-receiver.ts';

const tmp = tempDir();
const corpus = corpusDir();
let s: TestServer;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

before(async () => {
  if (FONT_SKIP) return;
  const mrz = buildTd1({
    state: 'FRA',
    surname: 'DUPONT',
    given: 'MARIE CLAIRE',
    number: 'X4RTBPFW4',
    nationality: 'FRA',
    birth: '900215',
    sex: 'F',
    expiry: '330101',
  });
  const small = { seconds: 2, fps: 10, width: 800, height: 450 };
  const portrait = corpus ? join(corpus, 'face-pairs/deepface_img11.jpg') : undefined;
  await makeDocumentVideo(await renderSpecimen({ mrz, portrait }), join(tmp.dir, 'front.mp4'), small);
  await makeDocumentVideo(await renderSpecimen({ mrz }), join(tmp.dir, 'back.mp4'), { ...small, seed: 5 });
  // With the corpus, a photo moved in 2D (a replay attack); without it, an unplayable video.
  if (corpus)
    await makeReplayFaceVideo(join(corpus, 'face-pairs/deepface_img6.jpg'), join(tmp.dir, 'face.mp4'), {
      seconds: 3,
      fps: 10,
      width: 320,
      height: 320,
      tilt: 0.15,
    });
  else makeBrokenVideo(join(tmp.dir, 'face.mp4'));
  s = await startTestServer(await openPgliteThread(), { env: { KYCLIVE_ANALYZER: 'engine' } });
  receiver = await startReceiver();
});
after(async () => {
  await receiver?.close();
  await s?.close();
  tmp.cleanup();
});

test('a capture analysed by the engine: verdict in the webhook, report and document captures imported', {
  skip: FONT_SKIP,
}, async () => {
  const c = await s.newClient();
  const token = await s.token(c);
  await call(s.baseUrl, 'POST', '/settings/hooks', { token, body: { url: receiver.url } });
  const u = (
    await call(s.baseUrl, 'POST', '/v1/users', {
      token,
      body: {
        userTypeId: 1,
        specifiedUSPerson: 0,
        email: 'm@example.com',
        firstname: 'Marie-Claire',
        lastname: 'Dupont',
        birthday: '1990-02-15',
      },
    })
  ).json.users[0];
  const v = (await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token })).json.identification;
  const ct = (v['identification-url'] as string).split('/').pop()!;
  for (const [step, file] of [
    ['document_front', 'front.mp4'],
    ['document_back', 'back.mp4'],
    ['face', 'face.mp4'],
  ]) {
    const r = await call(s.baseUrl, 'PUT', `/capture/v1/sessions/${ct}/media/${step}`, {
      raw: readFileSync(join(tmp.dir, file)),
      headers: { 'content-type': 'video/mp4' },
    });
    assert.equal(r.status, 201, r.text);
  }
  assert.equal(
    (
      await call(s.baseUrl, 'POST', `/capture/v1/sessions/${ct}/complete`, {
        body: { documentType: 'id_card', documentCountry: 'FR' },
      })
    ).status,
    200,
  );
  await s.settle();
  const updates = receiver.events('kycliveness.update');
  assert.equal(updates.length, 1);
  const p = updates[0].object_payload;
  assert.equal(p['kyc-status'], 'processed');
  const codes = p.reasons.map((r: any) => r['reason-code']);
  assert.equal(p.score, 0, p.comment);
  assert.ok(codes.includes(corpus ? 1313 : 1911), `reasons ${codes}`);
  assert.ok(!codes.includes(2401), 'the MRZ identity matches the user');
  // The identity in the webhook is the one read from the document.
  assert.equal(p.identity['last-name'], 'DUPONT');
  assert.equal(p.identity['birth-date'], '1990-02-15');
  // Evidence is kept without personal data: measurements and timings, not names.
  const row = await s.runtime.deps.db.query<{ analysis: any }>('select analysis from verifications where id = $1', [
    v['identification-id'],
  ]);
  assert.ok(row.rows[0].analysis.evidence.timingsMs.total > 0);

  const docs = (await call(s.baseUrl, 'PUT', `/v1/users/${u.userId}/kycliveness`, { token })).json.documents;
  const types = docs.map((d: any) => d.documentTypeId).sort();
  assert.ok(types.includes('26'), `types ${types}`);
  assert.ok(types.includes('9'), 'the ID card captures are imported as identity card documents');
  const front = docs.find((d: any) => d.documentTypeId === '9');
  const { url } = (await call(s.baseUrl, 'GET', `/v1/documents/${front.documentId}/download`, { token })).json;
  const img = Buffer.from(await (await fetch(url)).arrayBuffer());
  assert.equal(img.subarray(0, 3).toString('hex'), 'ffd8ff');
});
