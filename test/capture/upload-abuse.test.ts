/**
 * One capture link cannot take the server's memory or disk (issue 25, item 6): a chunk's offset is
 * claimed before its body is read, so a second writer at the same offset is refused at once and its
 * body never lands; and what a link, and a tenant's links, may hold is bounded.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { openPgliteThread } from '../../src/storage/db/pglite-thread.ts';
import { call, startTestServer, type TestServer } from '../helpers/runtime.ts';
import { fakeWebm, newTenant, startVerification } from './helpers.ts';

const S = (token: string) => `/capture/v1/sessions/${token}`;

/** A PATCH whose body starts and never ends, unless `end` is called. */
function openChunk(base: string, path: string, offset: number, first: Buffer) {
  const u = new URL(path, base);
  let answer!: (r: { status: number; body: string }) => void;
  const response = new Promise<{ status: number; body: string }>((r) => {
    answer = r;
  });
  const req = request(
    {
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      method: 'PATCH',
      headers: { 'upload-offset': String(offset), 'content-type': 'application/octet-stream' },
    },
    (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => answer({ status: res.statusCode!, body }));
    },
  );
  req.on('error', () => {});
  req.write(first);
  return { response, end: (last: Buffer) => req.end(last), abort: () => req.destroy() };
}

describe('capture uploads under abuse', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer(await openPgliteThread(), {
      env: { MAX_VERIFICATION_BYTES: String(200_000), MAX_TENANT_CAPTURE_BYTES: String(500_000) },
    });
  });
  after(async () => {
    await s?.close();
  });

  /** Until a writer holds the upload's offset. */
  async function writing(uploadId: string) {
    for (;;) {
      const r = await s.runtime.deps.db.query(
        'select 1 from capture_uploads where id = $1 and writing_until is not null',
        [uploadId],
      );
      if (r.rowCount) return;
      await new Promise((res) => setImmediate(res));
    }
  }

  test('a second chunk at an offset being written is refused before its body is read', async () => {
    const v = await startVerification(s);
    const body = fakeWebm(60_000);
    const up = await call(s.baseUrl, 'POST', `${S(v.token)}/uploads`, {
      body: { step: 'face', contentType: 'video/webm', size: body.length },
    });
    assert.equal(up.status, 201, up.text);
    const path = `${S(v.token)}/uploads/${up.json.uploadId}`;
    const first = openChunk(s.baseUrl, path, 0, body.subarray(0, 1000));
    // the first writer holds the offset while its body is still coming
    await writing(up.json.uploadId);
    const second = openChunk(s.baseUrl, path, 0, body.subarray(0, 1000));
    // Answered although its body never ends: before, the server read it to the end first.
    const refused = await second.response;
    assert.equal(refused.status, 409, refused.body);
    assert.match(JSON.parse(refused.body).errors[0].message, /being written by another request/);
    second.abort();
    first.end(body.subarray(1000));
    const done = await first.response;
    assert.equal(done.status, 200, done.body);
    assert.equal(JSON.parse(done.body).complete, true);
    const chunks = await s.runtime.deps.db.query('select 1 from capture_upload_chunks');
    assert.equal(chunks.rowCount, 0, 'assembled, and nothing else stored');
  });

  test('a writer that gives up releases the offset at once', async () => {
    const v = await startVerification(s);
    const body = fakeWebm(20_000);
    const up = await call(s.baseUrl, 'POST', `${S(v.token)}/uploads`, {
      body: { step: 'face', contentType: 'video/webm', size: body.length },
    });
    const path = `${S(v.token)}/uploads/${up.json.uploadId}`;
    const dropped = openChunk(s.baseUrl, path, 0, body.subarray(0, 500));
    await writing(up.json.uploadId);
    dropped.abort();
    // the resume of a dropped connection goes through (the lease was given back)
    let r = await call(s.baseUrl, 'PATCH', path, { raw: body, headers: { 'upload-offset': '0' } });
    for (let i = 0; i < 50 && r.status === 409; i++) {
      await new Promise((res) => setTimeout(res, 20));
      r = await call(s.baseUrl, 'PATCH', path, { raw: body, headers: { 'upload-offset': '0' } });
    }
    assert.equal(r.status, 200, r.text);
  });

  test("what a link, and a tenant's links, may hold is bounded; a refusal stores nothing", async () => {
    const tenant = await newTenant(s);
    const v = await startVerification(s, { tenant });
    const start = (size: number, token = v.token) =>
      call(s.baseUrl, 'POST', `${S(token)}/uploads`, {
        body: { step: 'document_front', contentType: 'video/webm', size },
      });
    assert.equal((await start(150_000)).status, 201);
    const over = await start(60_000);
    assert.equal(over.status, 413, over.text);
    assert.match(over.json.errors[0].message, /at most 200000 bytes/);
    // a whole-file PUT is announced by its Content-Length, and counted the same way
    const put = await call(s.baseUrl, 'PUT', `${S(v.token)}/media/face`, {
      raw: fakeWebm(60_000),
      headers: { 'content-type': 'video/webm' },
    });
    assert.equal(put.status, 413, put.text);
    // three more links of the tenant: 150 000 each fits per link, not for the tenant (500 000)
    const others = await Promise.all([1, 2, 3].map(() => startVerification(s, { tenant })));
    const statuses = [];
    for (const o of others) statuses.push((await start(150_000, o.token)).status);
    assert.deepEqual(statuses, [201, 201, 429]);
    const media = await s.runtime.deps.db.query('select 1 from capture_media where verification_id = $1', [
      v.identificationId,
    ]);
    assert.equal(media.rowCount, 0);
  });
});
