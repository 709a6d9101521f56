/** Raw capture media are deleted after the retention period of a finished verification; imported documents stay. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { openPgliteThread } from '../src/storage/db/pglite-thread.ts';
import { purgeCaptureMedia } from '../src/app/verifications/purge-capture-media.ts';
import { approveVerificationCase } from './helpers/review.ts';
import { startTestServer, call, type TestServer } from './helpers/runtime.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer(await openPgliteThread());
});
after(async () => {
  await s.close();
});

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 7)]);

test('capture media of finished verifications are purged after MEDIA_RETENTION_DAYS, unfinished ones and documents are kept', async () => {
  const c = await s.newClient();
  const token = await s.token(c);
  const mk = async () => {
    const u = (
      await call(s.baseUrl, 'POST', '/v1/users', {
        token,
        body: {
          userTypeId: 1,
          specifiedUSPerson: 0,
          email: 'r@example.com',
          firstname: 'R',
          lastname: 'T',
          birthday: '1990-01-01',
        },
      })
    ).json.users[0];
    const v = (await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token })).json.identification;
    const ct = (v['identification-url'] as string).split('/').pop()!;
    for (const step of ['document_front', 'document_back', 'face'])
      await call(s.baseUrl, 'PUT', `/capture/v1/sessions/${ct}/media/${step}`, {
        raw: JPEG,
        headers: { 'content-type': 'image/jpeg' },
      });
    return { userId: u.userId as string, id: v['identification-id'] as string, ct };
  };
  const finished = await mk();
  const open = await mk();
  await call(s.baseUrl, 'POST', `/capture/v1/sessions/${finished.ct}/complete`, { body: {} });
  await s.settle();
  // The sandbox analyzer answers -1 on real media: a reviewer decides, and the verification ends.
  await approveVerificationCase(s.runtime.deps, finished.id);
  await call(s.baseUrl, 'PUT', `/v1/users/${finished.userId}/kycliveness`, { token });
  const keys = async (id: string) =>
    (
      await s.runtime.deps.db.query<{ blob_key: string }>(
        'select blob_key from capture_media where verification_id = $1',
        [id],
      )
    ).rows.map((r) => r.blob_key);
  const finishedKeys = await keys(finished.id);
  assert.equal(finishedKeys.length, 3);
  assert.equal(await purgeCaptureMedia(s.runtime.deps), 0, 'nothing before the retention period');

  s.clock.advance(31 * 24 * 3600 * 1000);
  try {
    assert.equal(await purgeCaptureMedia(s.runtime.deps), 3);
    assert.deepEqual(await keys(finished.id), []);
    for (const k of finishedKeys) assert.equal(existsSync(`${s.dataDir}/blobs/${k}`), false);
    // The open (initiated) verification keeps its uploads; the imported report is still downloadable.
    assert.equal((await keys(open.id)).length, 3);
    const fresh = await s.token(c);
    const docs = (await call(s.baseUrl, 'GET', `/v1/documents?userId=${finished.userId}`, { token: fresh })).json
      .documents;
    const { url } = (await call(s.baseUrl, 'GET', `/v1/documents/${docs[0].documentId}/download`, { token: fresh }))
      .json;
    assert.equal((await fetch(url)).status, 200);
  } finally {
    s.clock.advance(-31 * 24 * 3600 * 1000);
  }
});

test('chunks of an unfinished resumable upload are dropped once its verification is superseded', async () => {
  const c = await s.newClient();
  const token = await s.token(c);
  const u = (
    await call(s.baseUrl, 'POST', '/v1/users', {
      token,
      body: {
        userTypeId: 1,
        specifiedUSPerson: 0,
        email: 'o@example.com',
        firstname: 'O',
        lastname: 'C',
        birthday: '1990-01-01',
      },
    })
  ).json.users[0];
  const v = (await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token })).json.identification;
  const ct = (v['identification-url'] as string).split('/').pop()!;
  const up = await call(s.baseUrl, 'POST', `/capture/v1/sessions/${ct}/uploads`, {
    body: { step: 'face', contentType: 'image/jpeg', size: JPEG.length * 2 },
  });
  assert.equal(up.status, 201, up.text);
  const id = up.json.uploadId ?? up.json.id;
  const chunk = await call(s.baseUrl, 'PATCH', `/capture/v1/sessions/${ct}/uploads/${id}`, {
    raw: JPEG,
    headers: { 'content-type': 'application/octet-stream', 'upload-offset': '0' },
  });
  assert.equal(chunk.status, 200, chunk.text);
  const chunks = async () =>
    (
      await s.runtime.deps.db.query<{ blob_key: string }>(
        'select c.blob_key from capture_upload_chunks c join capture_uploads u on u.id = c.upload_id where u.verification_id = $1',
        [v['identification-id']],
      )
    ).rows;
  const before = await chunks();
  assert.equal(before.length, 1);
  assert.equal(await purgeCaptureMedia(s.runtime.deps), 0, 'kept while the verification is open');
  await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token }); // supersedes it
  assert.equal(await purgeCaptureMedia(s.runtime.deps), 1);
  assert.deepEqual(await chunks(), []);
  assert.equal(existsSync(`${s.dataDir}/blobs/${before[0].blob_key}`), false);
});
