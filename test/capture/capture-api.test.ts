/**
 * The capture API the hosted app relies on, over real HTTP on PGlite: the app shell and its
 * assets, resumable chunked uploads, the connection probe, desktop→phone handoff links and the
 * per-client branding. Every refusal is a Treezor-format error and changes nothing.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { testDatabases } from '../helpers/databases.ts';
import { startTestServer, call, type TestServer } from '../helpers/runtime.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';
import { fakeWebm, newTenant, startVerification } from './helpers.ts';

let server: TestServer;
const S = (token: string) => `/capture/v1/sessions/${token}`;

function assertError(r: { status: number; json: any }, status: number, code?: string) {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.ok(Array.isArray(r.json?.errors), 'Treezor error format');
  assert.equal(typeof r.json.errors[0].message, 'string');
  assert.equal(typeof r.json.errors[0].requestId, 'string');
  if (code) assert.equal(r.json.errors[0].code, code);
}

async function mediaCount(verificationId: string) {
  const r = await server.runtime.deps.db.query<{ n: string }>(
    'select count(*) as n from capture_media where verification_id = $1',
    [verificationId],
  );
  return Number(r.rows[0].n);
}

for (const backend of await testDatabases()) {
  describe(`capture API on ${backend.name}`, { skip: backend.skip }, () => {
    let drop: (() => Promise<void>) | undefined;
    before(async () => {
      const opened = await backend.open();
      drop = opened.drop;
      server = await startTestServer(opened.db);
    });
    after(async () => {
      await server?.close();
      await drop?.();
    });

    describe('identification page and app assets', () => {
      test('serves the app shell with a strict CSP, and the bundle gzip-compressed', async () => {
        const v = await startVerification(server);
        const page = await fetch(v.identificationUrl);
        assert.equal(page.status, 200);
        const csp = page.headers.get('content-security-policy') ?? '';
        assert.match(csp, /script-src 'self'/);
        assert.doesNotMatch(csp, /unsafe-inline/);
        const html = await page.text();
        const js = /src="(\/identification\/assets\/app\.js\?v=[0-9a-f]+)"/.exec(html)?.[1];
        assert.ok(js, html);
        const r = await fetch(server.baseUrl + js, { headers: { 'accept-encoding': 'gzip' } });
        assert.equal(r.status, 200);
        assert.match(r.headers.get('cache-control') ?? '', /immutable/);
        const css = await fetch(`${server.baseUrl}/identification/assets/style.css`);
        assert.equal(css.status, 200);
        assert.match(css.headers.get('content-type') ?? '', /text\/css/);
        const human = await fetch(`${server.baseUrl}/identification/assets/human/models/blazeface.json`);
        assert.equal(human.status, 200);
        const lib = await fetch(`${server.baseUrl}/identification/assets/human/human.esm.js`, {
          headers: { 'accept-encoding': 'gzip' },
        });
        assert.equal(lib.status, 200);
        assert.equal(lib.headers.get('content-encoding'), 'gzip');
        assert.match(lib.headers.get('content-type') ?? '', /javascript/);
        assert.ok((await lib.arrayBuffer()).byteLength > 1_000_000, 'fetch decodes the gzip body');
        const traversal = await fetch(`${server.baseUrl}/identification/assets/human/models/..%2f..%2fpackage.json`);
        assert.equal(traversal.status, 404);
      });

      test('the bundle is small (gzip size reported)', async () => {
        const { webAssets } = await import('../../src/web/build.ts');
        const a = await webAssets();
        const size = a['app.js'].gzip.length + a['style.css'].gzip.length;
        console.log(
          `capture app bundle: app.js ${a['app.js'].body.length} B (${a['app.js'].gzip.length} B gzip), style.css ${a['style.css'].body.length} B (${a['style.css'].gzip.length} B gzip)`,
        );
        assert.ok(size < 40_000, `bundle is ${size} bytes gzip`);
        assert.equal(gunzipSync(a['app.js'].gzip).length, a['app.js'].body.length);
        // The app carries no reason catalogue, so it cannot show an AML-sensitive reason.
        const js = a['app.js'].body.toString('utf8');
        for (const m of ['counterfeit', 'rightful owner', "another person's face"]) assert.ok(!js.includes(m), m);
      });

      test('unknown, superseded and expired links show a clear page and accept no upload', async () => {
        const unknown = await fetch(`${server.baseUrl}/identification/${'x'.repeat(43)}`);
        assert.equal(unknown.status, 404);
        assert.match(await unknown.text(), /Link not recognised/);
        const v = await startVerification(server);
        const tenant = { sdk: v.sdk, creds: v.creds };
        await tenant.sdk.createKycliveness(v.userId);
        const old = await fetch(v.identificationUrl);
        assert.equal(old.status, 410);
        assert.match(await old.text(), /replaced[\s\S]*remplacé/);
        assertError(
          await call(server.baseUrl, 'POST', `${S(v.token)}/uploads`, {
            body: { step: 'face', contentType: 'video/webm', size: 100 },
          }),
          410,
          'identification_gone',
        );
        assertError(
          await call(server.baseUrl, 'POST', `${S(v.token)}/probe`, {
            raw: 'x',
            headers: { 'content-type': 'application/octet-stream' },
          }),
          410,
        );
        assertError(await call(server.baseUrl, 'POST', `${S(v.token)}/handoff`), 410);

        const e = await startVerification(server);
        server.clock.advance(8 * 24 * 3600 * 1000);
        try {
          const page = await fetch(e.identificationUrl);
          assert.equal(page.status, 410);
          assert.match(await page.text(), /expired/);
          assertError(
            await call(server.baseUrl, 'PUT', `${S(e.token)}/media/face`, {
              raw: fakeWebm(64),
              headers: { 'content-type': 'video/webm' },
            }),
            410,
          );
        } finally {
          server.clock.advance(-8 * 24 * 3600 * 1000);
        }
      });
    });

    describe('resumable chunked uploads', () => {
      test('chunks at increasing offsets assemble one capture_media row; a wrong offset says where to resume', async () => {
        const v = await startVerification(server);
        const body = fakeWebm(300_000);
        const start = await call(server.baseUrl, 'POST', `${S(v.token)}/uploads`, {
          body: { step: 'document_front', contentType: 'video/webm;codecs=vp8', size: body.length },
        });
        assert.equal(start.status, 201, start.text);
        assert.equal(start.json.offset, 0);
        assert.equal(start.json.complete, false);
        const id = start.json.uploadId;
        const patch = (off: number, bytes: Buffer) =>
          call(server.baseUrl, 'PATCH', `${S(v.token)}/uploads/${id}`, {
            raw: bytes,
            headers: { 'upload-offset': String(off), 'content-type': 'application/offset+octet-stream' },
          });

        const a = await patch(0, body.subarray(0, 100_000));
        assert.equal(a.status, 200, a.text);
        assert.equal(a.json.offset, 100_000);
        // A retry of a chunk the server already has (its answer was lost): 409 with the held offset.
        const dup = await patch(0, body.subarray(0, 100_000));
        assertError(dup, 409, 'conflict');
        const st = await call(server.baseUrl, 'GET', `${S(v.token)}/uploads/${id}`);
        assert.equal(st.json.offset, 100_000);
        assert.equal(await mediaCount(v.identificationId), 0);
        const b = await patch(100_000, body.subarray(100_000, 200_000));
        assert.equal(b.json.offset, 200_000);
        const c = await patch(200_000, body.subarray(200_000));
        assert.equal(c.status, 200, c.text);
        assert.equal(c.json.complete, true);
        assert.equal(c.json.media.bytes, body.length);
        assert.equal(c.json.media.step, 'document_front');
        assert.equal(await mediaCount(v.identificationId), 1);
        const chunks = await server.runtime.deps.db.query('select 1 from capture_upload_chunks where upload_id = $1', [
          id,
        ]);
        assert.equal(chunks.rowCount, 0, 'chunk blobs are removed once assembled');
        assertError(await patch(body.length, Buffer.alloc(0)), 409);
      });

      test('each bad input is refused clearly and stores nothing', async () => {
        const v = await startVerification(server);
        const up = (body: unknown) => call(server.baseUrl, 'POST', `${S(v.token)}/uploads`, { body });
        assertError(await up({ contentType: 'video/webm', size: 10 }), 400, 'missing_parameter');
        assertError(await up({ step: 'selfie', contentType: 'video/webm', size: 10 }), 400, 'invalid_parameter');
        assertError(await up({ step: 'face', size: 10 }), 400, 'missing_parameter');
        assertError(await up({ step: 'face', contentType: 'text/html', size: 10 }), 415);
        assertError(await up({ step: 'face', contentType: 'video/webm' }), 400, 'missing_parameter');
        assertError(await up({ step: 'face', contentType: 'video/webm', size: 1.5 }), 400);
        assertError(await up({ step: 'face', contentType: 'video/webm', size: '10' }), 400);
        assertError(await up({ step: 'face', contentType: 'video/webm', size: 10 ** 12 }), 413);
        assertError(await up({ step: 'face', contentType: 'video/webm', size: 10, extra: 1 }), 400);
        assertError(await up([1, 2]), 400);
        assertError(
          await call(server.baseUrl, 'POST', `${S(v.token)}/uploads`, {
            raw: '{nope',
            headers: { 'content-type': 'application/json' },
          }),
          400,
        );
        const none = await server.runtime.deps.db.query('select 1 from capture_uploads where verification_id = $1', [
          v.identificationId,
        ]);
        assert.equal(none.rowCount, 0);

        const s = await up({ step: 'face', contentType: 'video/webm', size: 1000 });
        const id = s.json.uploadId;
        const patch = (headers: Record<string, string>, raw: Buffer | string, uid = id) =>
          call(server.baseUrl, 'PATCH', `${S(v.token)}/uploads/${uid}`, {
            raw,
            headers: { 'content-type': 'application/offset+octet-stream', ...headers },
          });
        assertError(await patch({}, fakeWebm(10)), 400, 'missing_parameter');
        assertError(await patch({ 'upload-offset': '-1' }, fakeWebm(10)), 400);
        assertError(await patch({ 'upload-offset': 'abc' }, fakeWebm(10)), 400);
        assertError(await patch({ 'upload-offset': '0' }, Buffer.alloc(0)), 400);
        assertError(await patch({ 'upload-offset': '0' }, fakeWebm(1001)), 413);
        assertError(await patch({ 'upload-offset': '0' }, fakeWebm(10), '00000000-0000-0000-0000-000000000000'), 404);
        assertError(await patch({ 'upload-offset': '0' }, fakeWebm(10), 'not-a-uuid'), 404);
        assertError(await call(server.baseUrl, 'GET', `${S(v.token)}/uploads/not-a-uuid`), 404);
        // Another verification's token cannot reach this upload.
        const other = await startVerification(server);
        assertError(await call(server.baseUrl, 'GET', `${S(other.token)}/uploads/${id}`), 404);
        const st = await call(server.baseUrl, 'GET', `${S(v.token)}/uploads/${id}`);
        assert.equal(st.json.offset, 0);

        // Content that is not what was declared is refused at assembly, and nothing is stored.
        const png = await up({ step: 'face', contentType: 'video/mp4', size: 64 });
        const bad = await patch({ 'upload-offset': '0' }, fakeWebm(64), png.json.uploadId);
        assertError(bad, 415);
        assert.equal(await mediaCount(v.identificationId), 0);
      });

      test('aborting drops the chunks of unfinished uploads', async () => {
        const v = await startVerification(server);
        const s = await call(server.baseUrl, 'POST', `${S(v.token)}/uploads`, {
          body: { step: 'face', contentType: 'video/webm', size: 10_000 },
        });
        await call(server.baseUrl, 'PATCH', `${S(v.token)}/uploads/${s.json.uploadId}`, {
          raw: fakeWebm(4000),
          headers: { 'upload-offset': '0' },
        });
        const key = (
          await server.runtime.deps.db.query<{ blob_key: string }>(
            'select blob_key from capture_upload_chunks where upload_id = $1',
            [s.json.uploadId],
          )
        ).rows[0].blob_key;
        assert.equal(await server.runtime.deps.blobs.exists(key), true);
        const ab = await call(server.baseUrl, 'POST', `${S(v.token)}/abort`, {
          body: { returnReason: 'focus-lost', errorType: 'none' },
        });
        assert.equal(ab.status, 200);
        assert.equal(
          (
            await server.runtime.deps.db.query('select 1 from capture_upload_chunks where upload_id = $1', [
              s.json.uploadId,
            ])
          ).rowCount,
          0,
        );
        assert.equal(await server.runtime.deps.blobs.exists(key), false);
        assertError(
          await call(server.baseUrl, 'PATCH', `${S(v.token)}/uploads/${s.json.uploadId}`, {
            raw: fakeWebm(10),
            headers: { 'upload-offset': '4000' },
          }),
          409,
        );
      });

      test('complete after chunked uploads moves the verification to processing with kycliveness.create', async () => {
        const rec = await startReceiver();
        try {
          const tenant = await newTenant(server);
          await tenant.sdk.createWebhookSubscription(rec.url);
          const v = await startVerification(server, {
            tenant,
            redirectUrl: 'https://integrator.example/back?from=kyc',
          });
          for (const step of ['document_front', 'document_back', 'face']) {
            const body = fakeWebm(5000);
            const s = await call(server.baseUrl, 'POST', `${S(v.token)}/uploads`, {
              body: { step, contentType: 'video/webm', size: body.length },
            });
            const p = await call(server.baseUrl, 'PATCH', `${S(v.token)}/uploads/${s.json.uploadId}`, {
              raw: body,
              headers: { 'upload-offset': '0' },
            });
            assert.equal(p.json.complete, true);
          }
          const done = await call(server.baseUrl, 'POST', `${S(v.token)}/complete`, {
            body: {
              documentType: 'id_card',
              documentCountry: 'FR',
              metadata: { webdriver: false, uploadRetries: 2, droppedFrames: 0 },
            },
          });
          assert.equal(done.status, 200, done.text);
          const u = new URL(done.json.redirectUrl);
          assert.equal(u.searchParams.get('from'), 'kyc');
          assert.equal(u.searchParams.get('status'), 'processing');
          const s = await call(server.baseUrl, 'GET', S(v.token));
          assert.equal(s.json.state, 'processing');
          assert.equal(s.json.redirectUrl, done.json.redirectUrl);
          await server.settle();
          assert.equal(rec.events('kycliveness.create').length, 1);
        } finally {
          await rec.close();
        }
      });
      test('capture metadata is checked field by field: a wrong type, an unknown field or deep nesting is refused and changes nothing', async () => {
        const v = await startVerification(server);
        for (const step of ['document_front', 'document_back', 'face']) {
          const r = await call(server.baseUrl, 'PUT', `${S(v.token)}/media/${step}`, {
            raw: fakeWebm(3000),
            headers: { 'content-type': 'video/webm' },
          });
          assert.equal(r.status, 201, r.text);
        }
        let deep: unknown = 1;
        for (let i = 0; i < 2000; i++) deep = { a: deep };
        const bad: [unknown, string][] = [
          // issue 25: a number as the camera label used to switch the engine's fraud checks off
          [{ cameraLabel: 1 }, 'metadata.cameraLabel'],
          [{ webdriver: 'false' }, 'metadata.webdriver'],
          [{ challengeShownAt: [1, 'x'] }, 'metadata.challengeShownAt.1'],
          [{ challengeShownAt: new Array(100).fill(1) }, 'metadata.challengeShownAt'],
          [{ connection: { downlinkMbps: -1 } }, 'metadata.connection.downlinkMbps'],
          [{ userAgent: 'x'.repeat(600) }, 'metadata.userAgent'],
          [{ nested: deep }, 'metadata.nested'],
          [{ connection: deep }, 'metadata.connection.a'],
          ['text', 'metadata'],
        ];
        for (const [metadata, param] of bad) {
          const r = await call(server.baseUrl, 'POST', `${S(v.token)}/complete`, { body: { metadata } });
          assertError(r, 400, 'invalid_parameter');
          assert.equal(r.json.errors[0].param, param, r.text);
          for (const endpoint of ['complete', 'abort']) {
            const a = await call(server.baseUrl, 'POST', `${S(v.token)}/${endpoint}`, {
              body: { returnReason: 'refusal', errorType: 'none', metadata },
            });
            assertError(a, 400, 'invalid_parameter');
          }
        }
        const s = await call(server.baseUrl, 'GET', S(v.token));
        assert.equal(s.json.state, 'initiated', 'nothing changed');
        const ok = await call(server.baseUrl, 'POST', `${S(v.token)}/complete`, {
          body: { metadata: { cameraLabel: 'Front Camera', connection: { downlinkMbps: 3.2, probeMs: 120 } } },
        });
        assert.equal(ok.status, 200, ok.text);
      });
    });

    describe('connection probe', () => {
      test('counts the bytes of an open session and refuses oversize probes', async () => {
        const v = await startVerification(server);
        const ok = await call(server.baseUrl, 'POST', `${S(v.token)}/probe`, {
          raw: Buffer.alloc(256 * 1024),
          headers: { 'content-type': 'application/octet-stream' },
        });
        assert.equal(ok.status, 200);
        assert.equal(ok.json.bytes, 256 * 1024);
        assertError(
          await call(server.baseUrl, 'POST', `${S(v.token)}/probe`, {
            raw: Buffer.alloc(1024 * 1024 + 1),
            headers: { 'content-type': 'application/octet-stream' },
          }),
          413,
        );
        assertError(await call(server.baseUrl, 'POST', `${S('y'.repeat(43))}/probe`, { raw: 'x' }), 404);
      });
    });

    describe('desktop to phone handoff', () => {
      test('a one-time link moves the session to a phone; the desktop sees it and gets the final redirect', async () => {
        const v = await startVerification(server);
        const h = await call(server.baseUrl, 'POST', `${S(v.token)}/handoff`);
        assert.equal(h.status, 201, h.text);
        assert.ok(h.json.url.startsWith(`${server.baseUrl}/identification/h/`));
        assert.match(h.json.qrSvg, /^<svg/);
        const before = (await call(server.baseUrl, 'GET', S(v.token))).json;
        assert.equal(before.handoff, 'pending');
        assert.equal(before.handoffAvailable, true);

        const claim = await fetch(h.json.url, { redirect: 'manual' });
        assert.equal(claim.status, 303);
        const phonePath = claim.headers.get('location')!;
        const phoneToken = phonePath.split('/').pop()!;
        assert.notEqual(phoneToken, v.token);
        assert.equal((await fetch(server.baseUrl + phonePath)).status, 200);
        const again = await fetch(h.json.url, { redirect: 'manual' });
        assert.equal(again.status, 410, 'single use');
        assert.match(await again.text(), /no longer works/);

        const phone = await call(server.baseUrl, 'GET', S(phoneToken));
        assert.equal(phone.json.via, 'handoff');
        assert.equal(phone.json.handoffAvailable, false);
        assert.equal(phone.json.identificationId, v.identificationId);
        assertError(await call(server.baseUrl, 'POST', `${S(phoneToken)}/handoff`), 409);
        const desk = await call(server.baseUrl, 'GET', `${S(v.token)}/progress`);
        assert.deepEqual(desk.json, { state: 'initiated', handoff: 'claimed', uploadedSteps: [], redirectUrl: null });

        await call(server.baseUrl, 'PUT', `${S(phoneToken)}/media/face`, {
          raw: fakeWebm(100),
          headers: { 'content-type': 'video/webm' },
        });
        assert.deepEqual((await call(server.baseUrl, 'GET', S(v.token))).json.uploadedSteps, ['face']);
        const ab = await call(server.baseUrl, 'POST', `${S(phoneToken)}/abort`, {
          body: { returnReason: 'refusal', errorType: 'none' },
        });
        assert.equal(ab.status, 200);
        const fin = await call(server.baseUrl, 'GET', S(v.token));
        assert.equal(fin.json.state, 'aborted');
        assert.match(fin.json.redirectUrl, /return_reason=refusal/);
      });

      test('no phone option when the public address is plain http (a phone would refuse the camera)', async () => {
        const v = await startVerification(server);
        const saved = server.runtime.config.publicBaseUrl;
        server.runtime.config.publicBaseUrl = 'http://kyc.example.com';
        try {
          assert.equal((await call(server.baseUrl, 'GET', S(v.token))).json.handoffAvailable, false);
        } finally {
          server.runtime.config.publicBaseUrl = saved;
        }
      });

      test('an expired or unknown link is refused with a clear page', async () => {
        const v = await startVerification(server);
        const h = await call(server.baseUrl, 'POST', `${S(v.token)}/handoff`);
        server.clock.advance(11 * 60 * 1000);
        try {
          const late = await fetch(h.json.url, { redirect: 'manual' });
          assert.equal(late.status, 410);
          assert.equal((await call(server.baseUrl, 'GET', S(v.token))).json.handoff, 'none');
        } finally {
          server.clock.advance(-11 * 60 * 1000);
        }
        assert.equal(
          (await fetch(`${server.baseUrl}/identification/h/${'z'.repeat(43)}`, { redirect: 'manual' })).status,
          404,
        );
        assert.equal((await fetch(`${server.baseUrl}/identification/h/short`, { redirect: 'manual' })).status, 404);
      });
    });

    describe('client branding', () => {
      test('admin sets name, colours, logo and default redirect; the capture session and new verifications use them', async () => {
        const tenant = await newTenant(server);
        const token = await server.token(tenant.creds);
        const initial = await call(server.baseUrl, 'GET', '/settings/branding', { token });
        assert.equal(initial.status, 200);
        assert.equal(initial.json.primaryColor, null);
        const logo =
          'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
        const put = await call(server.baseUrl, 'PUT', '/settings/branding', {
          token,
          body: {
            name: 'Banque Exemple',
            primaryColor: '#0A7A3B',
            backgroundColor: '#fffdf5',
            textColor: '#1b1b1b',
            logoUrl: logo,
            defaultRedirectUrl: 'https://bank.example/kyc/return',
          },
        });
        assert.equal(put.status, 200, put.text);
        assert.equal(put.json.primaryColor, '#0a7a3b');
        const v = await startVerification(server, { tenant });
        const s = await call(server.baseUrl, 'GET', S(v.token));
        assert.equal(s.json.branding.name, 'Banque Exemple');
        assert.equal(s.json.branding.primaryColor, '#0a7a3b');
        assert.equal(s.json.branding.logoUrl, logo);
        assert.equal(s.json.branding.defaultRedirectUrl, undefined);
        const ab = await call(server.baseUrl, 'POST', `${S(v.token)}/abort`, {
          body: { returnReason: 'verify_later', errorType: 'none' },
        });
        assert.ok(ab.json.redirectUrl.startsWith('https://bank.example/kyc/return?'));
        // Partial update keeps the rest; null clears.
        const p2 = await call(server.baseUrl, 'PUT', '/settings/branding', { token, body: { logoUrl: null } });
        assert.equal(p2.json.logoUrl, null);
        assert.equal(p2.json.name, 'Banque Exemple');
      });

      test('every bad field is refused and changes nothing; other scopes cannot touch it', async () => {
        const tenant = await newTenant(server);
        const token = await server.token(tenant.creds);
        await call(server.baseUrl, 'PUT', '/settings/branding', {
          token,
          body: { name: 'Kept', primaryColor: '#123456' },
        });
        const bad: [unknown, number, string?][] = [
          [{ primaryColor: 'red' }, 400, 'primaryColor'],
          [{ primaryColor: '#12345' }, 400, 'primaryColor'],
          [{ textColor: '#777777', backgroundColor: '#888888' }, 400, 'textColor'],
          [{ backgroundColor: '#000000' }, 400, 'backgroundColor'],
          [{ logoUrl: 'http://cdn.example/logo.png' }, 400, 'logoUrl'],
          [{ logoUrl: 'javascript:alert(1)' }, 400, 'logoUrl'],
          [{ logoUrl: 'data:image/svg+xml;base64,PHN2Zz4=' }, 400, 'logoUrl'],
          [{ logoUrl: `data:image/png;base64,${'A'.repeat(200_000)}` }, 413, 'logoUrl'],
          [{ name: '' }, 400, 'name'],
          [{ name: 'x'.repeat(81) }, 400, 'name'],
          [{ name: 'a\u0007b' }, 400, 'name'],
          [{ name: 42 }, 400, 'name'],
          [{ defaultRedirectUrl: 'http://bank.example/' }, 400, 'defaultRedirectUrl'],
          [{ defaultRedirectUrl: 'not a url' }, 400, 'defaultRedirectUrl'],
          [{ colour: '#ffffff' }, 400, 'colour'],
          [[1], 400],
        ];
        for (const [body, status, param] of bad) {
          const r = await call(server.baseUrl, 'PUT', '/settings/branding', { token, body });
          assertError(r, status);
          if (param) assert.equal(r.json.errors[0].param, param, JSON.stringify(body));
        }
        const after = await call(server.baseUrl, 'GET', '/settings/branding', { token });
        assert.equal(after.json.name, 'Kept');
        assert.equal(after.json.primaryColor, '#123456');
        assert.equal(after.json.backgroundColor, null);
        const ro = await server.token(tenant.creds, 'read_only');
        assertError(await call(server.baseUrl, 'PUT', '/settings/branding', { token: ro, body: { name: 'x' } }), 403);
        assertError(await call(server.baseUrl, 'GET', '/settings/branding'), 401);
      });
    });
  });
}
