/**
 * The whole integrator flow through HTTP with a real webhook receiver on loopback, on PGlite and
 * on PostgreSQL: token → user → 428 → kycliveness → simulated completion → kycliveness.create and
 * .update received and verified → PUT kycliveness → document.create → download URL works, then
 * 403 after 30 s (injected clock) → Kycreview → user.kycrequest → decision → user.kycreview.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { PDFDocument } from 'pdf-lib';
import { KycliveClient, verifyWebhook, KycliveApiError } from '../src/sdk/index.ts';
import { testDatabases } from './helpers/databases.ts';
import { startTestServer, call, type TestServer } from './helpers/runtime.ts';
import { startReceiver } from './helpers/webhook-receiver.ts';
import { startS3 } from './helpers/s3.ts';

for (const backend of await testDatabases()) {
  // PostgreSQL runs in the full production configuration: blobs in a real S3-protocol store.
  const production = backend.name === 'postgres';
  describe(`integrator flow on ${backend.name}${production ? ' with S3 blobs' : ' with disk blobs'}`, {
    skip: backend.skip,
  }, () => {
    let server: TestServer;
    let drop: () => Promise<void>;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let s3: Awaited<ReturnType<typeof startS3>> | undefined;

    before(async () => {
      const opened = await backend.open();
      drop = opened.drop;
      if (production) s3 = await startS3();
      server = await startTestServer(opened.db, { env: s3?.env });
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver?.close();
      await server?.close();
      await s3?.close();
      await drop?.();
    });

    test('from user creation to KYC review decision', async () => {
      const creds = await server.newClient();
      const sdk = new KycliveClient({
        baseUrl: server.baseUrl,
        clientId: creds.clientId,
        clientSecret: creds.clientSecret,
      });
      const hook = await sdk.createWebhookSubscription(receiver.url);
      assert.match(hook.secret, /^whsec_/);
      const verify = (raw: string, headers: Record<string, string | string[] | undefined>) =>
        verifyWebhook(raw, headers, hook.secret, { now: Math.floor(server.clock.now().getTime() / 1000) });

      // A user without the KYC fields cannot start a live verification: 428 naming them.
      const user = await sdk.createUser({ userTypeId: 1, specifiedUSPerson: 0, email: 'alex.oak@example.com' });
      assert.equal(typeof user.userId, 'string');
      await assert.rejects(sdk.createKycliveness(user.userId), (e: unknown) => {
        assert.ok(e instanceof KycliveApiError);
        assert.equal(e.status, 428);
        assert.match(e.errors[0].message ?? '', /firstname, lastname, birthday/);
        return true;
      });
      await sdk.updateUser(user.userId, { firstname: 'Hélène', lastname: 'Oak', birthday: '1990-10-29' });

      const start = await sdk.createKycliveness(user.userId, {
        redirectUrl: 'https://integrator.example/kyc/done?x=1',
      });
      assert.match(start.identificationId, /^[0-9a-f-]{36}$/);
      assert.ok(start.identificationUrl.startsWith(`${server.baseUrl}/identification/`));
      // The one 201 body satisfies the three known client shapes.
      const raw = start.raw as Record<string, any>;
      assert.equal(raw.user_kyc[0]['identification-id'], start.identificationId);
      assert.equal(raw.identification['identification-url'], start.identificationUrl);
      assert.equal(raw.users[0]['identification-id'], start.identificationId);

      const page = await fetch(start.identificationUrl);
      assert.equal(page.status, 200);

      const sim = await sdk.simulateKycliveness(start.identificationId, {
        outcome: 'processed',
        score: 1,
        reasons: [],
        comment: 'Identité vérifiée',
      });
      assert.equal((sim as Record<string, unknown>)['kyc-status'], 'processing');
      await server.settle();

      const created = receiver.received.filter((r) => JSON.parse(r.rawBody).webhook === 'kycliveness.create');
      const updated = receiver.received.filter((r) => JSON.parse(r.rawBody).webhook === 'kycliveness.update');
      assert.equal(created.length, 1);
      assert.equal(updated.length, 1);
      const c = verify(created[0].rawBody, created[0].headers);
      assert.equal(c.object, 'kycliveness');
      assert.equal(c.object_id, user.userId);
      assert.equal((c.object_payload as any)['kyc-status'], 'processing');
      const u = verify(updated[0].rawBody, updated[0].headers);
      const up = u.object_payload as any;
      assert.equal(up['kyc-status'], 'processed');
      assert.equal(up.score, 1);
      assert.equal(up.user_id, user.userId);
      assert.equal(up.comment, 'Identité vérifiée');
      assert.deepEqual(up.reasons, []);
      assert.equal(up.identity['first-name'], 'Hélène');
      // Non-ASCII travels as PHP json_encode escapes it, inside the signed object_payload.
      assert.ok(updated[0].rawBody.includes('H\\u00e9l\\u00e8ne'), updated[0].rawBody);

      const state = await sdk.getKycliveness(user.userId);
      assert.equal((state as any)['kyc-status'], 'processed');

      const imported = await sdk.importKyclivenessDocuments(user.userId);
      const docs = (imported as any).documents as any[];
      assert.equal(docs.length, 1);
      assert.equal(docs[0].documentTypeId, '26');
      assert.equal(docs[0].documentType, 'Liveness result');
      await server.settle();
      const docEvents = receiver.events('document.create');
      assert.equal(docEvents.length, 1);
      const dr = receiver.received.find((r) => JSON.parse(r.rawBody).webhook === 'document.create')!;
      const de = verify(dr.rawBody, dr.headers);
      assert.equal((de.object_payload as any).documents[0].documentId, docs[0].documentId);

      // Idempotent: a second import creates and emits nothing.
      const again = await sdk.importKyclivenessDocuments(user.userId);
      assert.deepEqual(
        (again as any).documents.map((d: any) => d.documentId),
        docs.map((d) => d.documentId),
      );
      await server.settle();
      assert.equal(receiver.events('document.create').length, 1);

      const url = await sdk.getDocumentDownloadUrl(docs[0].documentId);
      const file = await fetch(url);
      assert.equal(file.status, 200);
      assert.equal(file.headers.get('content-type'), 'application/pdf');
      const pdf = Buffer.from(await file.arrayBuffer());
      assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
      const parsed = await PDFDocument.load(pdf);
      assert.match(parsed.getSubject() ?? '', /^SIMULATED/);
      assert.match(parsed.getTitle() ?? '', /Liveness result/);
      if (s3) {
        // The report really went to the S3 store, encrypted.
        // s3rver keeps each object's bytes in a file named <key>._S3rver_object.
        const files = readdirSync(s3.directory, { recursive: true })
          .map(String)
          .filter((f) => f.includes('/artifacts/') && f.endsWith('._S3rver_object'));
        assert.ok(files.length > 0, 'artifact stored in S3');
        for (const f of files) {
          const stored: Buffer = readFileSync(join(s3.directory, f));
          assert.equal(stored.subarray(0, 4).toString(), 'KLB1');
          assert.ok(!stored.includes(Buffer.from('%PDF')), 'no plaintext at rest');
        }
      }
      // The report's recorded hash matches what is served.
      const rec = await server.runtime.deps.db.query<{ sha256: string }>('select sha256 from documents where id = $1', [
        Number(docs[0].documentId),
      ]);
      assert.equal(createHash('sha256').update(pdf).digest('hex'), rec.rows[0].sha256);

      server.clock.advance(31_000);
      const late = await fetch(url);
      assert.equal(late.status, 403);
      const lateBody = (await late.json()) as any;
      assert.equal(lateBody.errors[0].code, 'url_expired');

      const reviewed = await sdk.requestKycReview(user.userId);
      assert.equal(reviewed.kycReview, '1');
      assert.equal(reviewed.kycLevel, '0');
      await server.settle();
      assert.equal(receiver.events('user.kycrequest').length, 1);

      const token = await server.token(creds);
      const decision = await call(server.baseUrl, 'POST', `/admin/users/${user.userId}/kycreview/decision`, {
        token,
        body: { decision: 'validated', comment: 'Live verification OK' },
      });
      assert.equal(decision.status, 200, decision.text);
      assert.equal(decision.json.users[0].kycReview, '2');
      assert.equal(decision.json.users[0].kycLevel, '2');
      await server.settle();
      const rv = receiver.received.filter((r) => JSON.parse(r.rawBody).webhook === 'user.kycreview');
      assert.equal(rv.length, 1);
      const rve = verify(rv[0].rawBody, rv[0].headers);
      assert.equal((rve.object_payload as any).users[0].kycReview, '2');
      assert.equal((rve.object_payload as any).users[0].kycReviewComment, 'Live verification OK');
    });

    test('concurrent initiations, several per user: each user keeps exactly one live verification', async () => {
      const creds = await server.newClient();
      const token = await server.token(creds);
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        ids.push(
          (
            await call(server.baseUrl, 'POST', '/v1/users', {
              token,
              body: {
                userTypeId: 1,
                specifiedUSPerson: 0,
                email: `c${i}@example.com`,
                firstname: 'C',
                lastname: 'D',
                birthday: '1990-01-01',
              },
            })
          ).json.users[0].userId,
        );
      }
      const res = await Promise.all(
        [...ids, ...ids, ...ids, ...ids].map((id) =>
          call(server.baseUrl, 'POST', `/v1/users/${id}/kycliveness`, { token }),
        ),
      );
      assert.ok(res.every((r) => r.status === 201));
      const r = await server.runtime.deps.db.query<{ user_id: number; live: number; superseded: number }>(
        `select user_id, count(*) filter (where state = 'initiated')::int as live, count(*) filter (where state = 'superseded')::int as superseded
           from verifications where client_id = $1 group by user_id`,
        [creds.clientId],
      );
      assert.equal(r.rows.length, 8);
      for (const row of r.rows) assert.deepEqual([row.live, row.superseded], [1, 3], `user ${row.user_id}`);
      // The live one is the one whose URL still opens.
      const live = await server.runtime.deps.db.query<{ id: string }>(
        `select id from verifications where client_id = $1 and state = 'initiated'`,
        [creds.clientId],
      );
      const returned = new Set(res.map((x) => x.json.identification['identification-id']));
      for (const row of live.rows) assert.ok(returned.has(row.id));
    });

    test('initiations for one user at once run one after the other: each supersedes the one before, one stays live', async () => {
      const creds = await server.newClient();
      const token = await server.token(creds);
      const userId = (
        await call(server.baseUrl, 'POST', '/v1/users', {
          token,
          body: {
            userTypeId: 1,
            specifiedUSPerson: 0,
            email: 'h@example.com',
            firstname: 'H',
            lastname: 'I',
            birthday: '1990-01-01',
          },
        })
      ).json.users[0].userId;
      const made = await Promise.all(
        Array.from({ length: 20 }, () => call(server.baseUrl, 'POST', `/v1/users/${userId}/kycliveness`, { token })),
      );
      assert.ok(made.every((r) => r.status === 201));
      const rows = await server.runtime.deps.db.query<{ id: string; state: string; superseded_by: string | null }>(
        'select id, state, superseded_by from verifications where user_id = $1 order by seq',
        [Number(userId)],
      );
      // In insertion order, each one names the next as its successor, and the last is the live one.
      assert.equal(rows.rowCount, 20);
      rows.rows.forEach((r, i) => {
        const next = rows.rows[i + 1];
        assert.deepEqual([r.state, r.superseded_by], next ? ['superseded', next.id] : ['initiated', null], `row ${i}`);
      });
      const latest = await call(server.baseUrl, 'GET', `/v1/users/${userId}/kycliveness`, { token });
      assert.deepEqual([latest.json['identification-id'], latest.json['kyc-status']], [rows.rows[19].id, 'initiated']);
      const live = made.find((r) => r.json.identification['identification-id'] === rows.rows[19].id)!;
      assert.equal((await fetch(made.find((r) => r !== live)!.json.identification['identification-url'])).status, 410);
      assert.notEqual((await fetch(live.json.identification['identification-url'])).status, 410);
    });

    test('a new initiation racing a verification that finishes leaves the finished one as it is', async () => {
      const creds = await server.newClient();
      const token = await server.token(creds);
      const userId = (
        await call(server.baseUrl, 'POST', '/v1/users', {
          token,
          body: {
            userTypeId: 1,
            specifiedUSPerson: 0,
            email: 'r@example.com',
            firstname: 'R',
            lastname: 'S',
            birthday: '1990-01-01',
          },
        })
      ).json.users[0].userId;
      const first = (await call(server.baseUrl, 'POST', `/v1/users/${userId}/kycliveness`, { token })).json
        .identification['identification-id'];
      const db = server.runtime.deps.db;
      await db.query(`update verifications set state = 'processing' where id = $1`, [first]);
      let second: Promise<Awaited<ReturnType<typeof call>>> | undefined;
      // The analysis result commits while the new initiation is already waiting for the row: the
      // supersede must see 'processed' then, not the 'processing' its snapshot started from.
      await db.transaction(async (tx) => {
        await tx.query(`update verifications set state = 'processed', score = 1 where id = $1`, [first]);
        second = call(server.baseUrl, 'POST', `/v1/users/${userId}/kycliveness`, { token });
        if (db.kind === 'postgres') {
          for (let i = 0; i < 100; i++) {
            const w = await db.query(
              `select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like '%state = any%'`,
            );
            if (w.rowCount > 0) break;
            await new Promise((r) => setTimeout(r, 20));
          }
        } else {
          await new Promise((r) => setTimeout(r, 100)); // PGlite: the initiation queues behind this transaction
        }
      });
      assert.equal((await second!).status, 201);
      const rows = await db.query<{ id: string; state: string; superseded_by: string | null }>(
        'select id, state, superseded_by from verifications where user_id = $1 order by created_at',
        [Number(userId)],
      );
      assert.deepEqual(
        rows.rows.map((r) => [r.id === first, r.state, r.superseded_by]),
        [
          [true, 'processed', null],
          [false, 'initiated', null],
        ],
      );
    });

    test('an aborted capture emits kycliveness.create with the redirect row, and a new verification supersedes the old one', async () => {
      const creds = await server.newClient();
      const sdk = new KycliveClient({
        baseUrl: server.baseUrl,
        clientId: creds.clientId,
        clientSecret: creds.clientSecret,
      });
      const rec = await startReceiver();
      try {
        await sdk.createWebhookSubscription(rec.url);
        const user = await sdk.createUser({
          userTypeId: 1,
          specifiedUSPerson: 0,
          email: 'b@example.com',
          firstname: 'Bo',
          lastname: 'Ash',
          birthday: '1985-01-02',
        });
        const first = await sdk.createKycliveness(user.userId);
        const second = await sdk.createKycliveness(user.userId);
        assert.notEqual(first.identificationId, second.identificationId);
        assert.equal((await fetch(first.identificationUrl)).status, 410);
        const token = first.identificationUrl.split('/').pop()!;
        const up = await call(server.baseUrl, 'PUT', `/capture/v1/sessions/${token}/media/face`, {
          raw: Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Array(20).fill(1)]),
          headers: { 'content-type': 'image/jpeg' },
        });
        assert.equal(up.status, 410);
        const simOld = await call(server.baseUrl, 'POST', `/simulation/kycliveness/${first.identificationId}`, {
          token: await server.token(creds),
          body: { outcome: 'processed' },
        });
        assert.equal(simOld.status, 410);

        await sdk.simulateKycliveness(second.identificationId, {
          outcome: 'aborted',
          returnReason: 'error',
          errorType: 'device_not_allowed',
        });
        await server.settle();
        const ev = rec.events('kycliveness.create');
        assert.equal(ev.length, 1);
        assert.equal(ev[0].object_payload['kyc-status'], 'aborted');
        assert.equal(ev[0].object_payload['return-reason'], 'error');
        assert.equal(ev[0].object_payload['error-type'], 'device_not_allowed');
        assert.equal(rec.events('kycliveness.update').length, 0);
        // Not processed: nothing to import (406).
        const imp = await call(server.baseUrl, 'PUT', `/v1/users/${user.userId}/kycliveness`, {
          token: await server.token(creds),
        });
        assert.equal(imp.status, 406);
      } finally {
        await rec.close();
      }
    });
  });
}
