/**
 * The human half of KYC through its use cases, on both databases: every certified verification and
 * every undecided one waits in `processing` for compliance staff; four eyes; the decision reaches the
 * integrator once; tenants and roles are enforced; the evidence, the KYC review and the audit chain.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { audit } from '../../src/app/audit/audit.ts';
import { verifyAuditChain } from '../../src/app/audit/verify-audit-chain.ts';
import { createClient } from '../../src/app/clients/create-client.ts';
import { actOnReviewCase } from '../../src/app/review/act-on-review-case.ts';
import { checklistFor, type Decision } from '../../src/domain/review/review-case.ts';
import type { StaffPrincipal, StaffRole } from '../../src/domain/review/staff.ts';
import { findCaseOfVerification, findOpenKycCase } from '../../src/storage/db/repo/review-cases.ts';
import { insertStaff } from '../../src/storage/db/repo/staff.ts';
import { testDatabases } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/runtime.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 7)]);
const USER = {
  userTypeId: 1,
  specifiedUSPerson: 0,
  email: 'r@example.com',
  firstname: 'Rita',
  lastname: 'Ora',
  birthday: '1980-05-06',
};

const all = (kind: 'verification' | 'kyc_review', method: 'liveness' | 'certified' | null, v = true) =>
  Object.fromEntries(checklistFor({ kind, method }).map((i) => [i, v]));
const rejects = async (p: Promise<unknown>, code: string) =>
  assert.rejects(p, (e: { code?: string }) => e.code === code || assert.fail(`expected ${code}, got ${e.code}`));

for (const backend of await testDatabases()) {
  describe(`review cases on ${backend.name}`, { skip: backend.skip }, () => {
    let s: TestServer;
    let drop: () => Promise<void>;
    let rec: Awaited<ReturnType<typeof startReceiver>>;
    before(async () => {
      const o = await backend.open();
      drop = o.drop;
      s = await startTestServer(o.db);
      rec = await startReceiver();
    });
    after(async () => {
      await rec?.close();
      await s?.close();
      await drop?.();
    });

    async function person(roles: StaffRole[], tenants: string[] | null = null): Promise<StaffPrincipal> {
      const id = randomUUID();
      const r = await insertStaff(s.runtime.deps.db, {
        id,
        email: `${id}@bank.example`,
        name: id,
        roles,
        tenants,
        at: new Date(),
      });
      return { id: r.id, email: r.email, roles: r.roles, tenants: r.tenants };
    }

    async function tenant(method: 'liveness' | 'certified') {
      const c = await createClient(s.runtime.deps.db, {
        name: `t ${randomUUID().slice(0, 6)}`,
        scopes: ['read_only', 'read_write', 'admin', 'legal'],
        method,
      });
      const creds = { clientId: c.clientId, clientSecret: c.clientSecret };
      const token = await s.token(creds);
      await call(s.baseUrl, 'POST', '/settings/hooks', { token, body: { url: rec.url } });
      return { clientId: c.clientId, token };
    }

    /** A real capture (the sandbox analyzer answers -1: it does not analyse media), completed and analysed. */
    async function captured(t: { token: string }) {
      const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body: USER })).json.users[0];
      const v = (await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token: t.token })).json
        .identification;
      const ct = (v['identification-url'] as string).split('/').pop()!;
      for (const step of ['document_front', 'document_back', 'face'])
        await call(s.baseUrl, 'PUT', `/capture/v1/sessions/${ct}/media/${step}`, {
          raw: JPEG,
          headers: { 'content-type': 'image/jpeg' },
        });
      const done = await call(s.baseUrl, 'POST', `/capture/v1/sessions/${ct}/complete`, {
        body: { documentType: 'id_card' },
      });
      assert.equal(done.status, 200, done.text);
      await s.settle();
      const c = await findCaseOfVerification(s.runtime.deps.db, v['identification-id']);
      assert.ok(c, 'a review case was opened');
      return { userId: String(u.userId), verificationId: v['identification-id'] as string, caseId: c.id };
    }

    const updates = (verificationId: string) =>
      rec.events('kycliveness.update').filter((e) => e.object_payload['identification-id'] === verificationId);
    const status = async (t: { token: string }, userId: string) =>
      (await call(s.baseUrl, 'GET', `/v1/users/${userId}/kycliveness`, { token: t.token })).json;

    test('a certified verification waits for two people: maker, then another checker; the integrator hears once', async () => {
      const t = await tenant('certified');
      const maker = await person(['reviewer']);
      const checker = await person(['checker']);
      const v = await captured(t);
      assert.equal((await status(t, v.userId))['kyc-status'], 'processing');
      assert.equal(updates(v.verificationId).length, 0, 'nothing is sent while the case waits');
      const c0 = await findCaseOfVerification(s.runtime.deps.db, v.verificationId);
      assert.deepEqual([c0?.queueReason, c0?.fourEyes, c0?.recommendation?.score], ['certified', true, -1]);
      await rejects(actOnReviewCase(s.runtime.deps, checker, v.caseId, { type: 'approve' }), 'conflict');
      await actOnReviewCase(s.runtime.deps, maker, v.caseId, { type: 'claim' });
      const decision: Decision = {
        outcome: 'approve',
        reasons: [],
        comment: 'Genuine card, same person',
        checklist: all('verification', 'certified'),
      };
      const pending = await actOnReviewCase(s.runtime.deps, maker, v.caseId, { type: 'decide', decision });
      assert.equal(pending.state, 'pending_check');
      await s.settle();
      assert.equal(updates(v.verificationId).length, 0, 'a decision waiting for its check is not sent');
      await rejects(actOnReviewCase(s.runtime.deps, maker, v.caseId, { type: 'approve' }), 'forbidden');
      const closed = await actOnReviewCase(s.runtime.deps, checker, v.caseId, { type: 'approve' });
      assert.equal(closed.state, 'closed');
      await rejects(actOnReviewCase(s.runtime.deps, checker, v.caseId, { type: 'approve' }), 'conflict');
      await s.settle();
      const sent = updates(v.verificationId);
      assert.equal(sent.length, 1);
      assert.deepEqual([sent[0].object_payload['kyc-status'], sent[0].object_payload.score], ['processed', 1]);
      assert.equal(sent[0].object_payload.comment, 'Genuine card, same person');
      const st = await status(t, v.userId);
      assert.deepEqual([st['kyc-status'], st.score], ['processed', 1]);
    });

    test('an undecided liveness verification refused with 2403 by one reviewer reaches the integrator', async () => {
      const t = await tenant('liveness');
      const reviewer = await person(['reviewer']);
      const v = await captured(t);
      const c = await findCaseOfVerification(s.runtime.deps.db, v.verificationId);
      assert.deepEqual([c?.queueReason, c?.fourEyes], ['undecided', false]);
      await actOnReviewCase(s.runtime.deps, reviewer, v.caseId, { type: 'claim' });
      await actOnReviewCase(s.runtime.deps, reviewer, v.caseId, {
        type: 'decide',
        decision: {
          outcome: 'refuse',
          reasons: [2403],
          comment: 'Someone off camera dictated the answers.',
          checklist: all('verification', 'liveness', false),
        },
      });
      await s.settle();
      const sent = updates(v.verificationId);
      assert.equal(sent.length, 1);
      assert.equal(sent[0].object_payload.score, 0);
      assert.deepEqual(
        sent[0].object_payload.reasons.map((r: { 'reason-code': number }) => r['reason-code']),
        [2403],
      );
    });

    test("tenants and roles: another tenant's staff sees nothing, a viewer cannot act, only the assignee decides", async () => {
      const t = await tenant('liveness');
      const v = await captured(t);
      const elsewhere = await person(['reviewer', 'checker'], ['some-other-client']);
      await rejects(actOnReviewCase(s.runtime.deps, elsewhere, v.caseId, { type: 'claim' }), 'not_found');
      const viewer = await person(['viewer'], [t.clientId]);
      await rejects(actOnReviewCase(s.runtime.deps, viewer, v.caseId, { type: 'claim' }), 'forbidden');
      const a = await person(['reviewer'], [t.clientId]);
      const b = await person(['reviewer']);
      await actOnReviewCase(s.runtime.deps, a, v.caseId, { type: 'claim' });
      const d: Decision = { outcome: 'approve', reasons: [], comment: '', checklist: all('verification', 'liveness') };
      await rejects(actOnReviewCase(s.runtime.deps, b, v.caseId, { type: 'decide', decision: d }), 'forbidden');
      await rejects(actOnReviewCase(s.runtime.deps, b, v.caseId, { type: 'claim' }), 'conflict');
      const admin = await person(['admin']);
      await actOnReviewCase(s.runtime.deps, admin, v.caseId, { type: 'assign', to: b.id });
      await actOnReviewCase(s.runtime.deps, b, v.caseId, { type: 'decide', decision: d });
      await rejects(
        actOnReviewCase(s.runtime.deps, admin, v.caseId, { type: 'assign', to: elsewhere.id }),
        'invalid_request',
      );
    });

    test('a change of the declared identity clears a decision waiting for its check', async () => {
      const t = await tenant('certified');
      const maker = await person(['reviewer']);
      const v = await captured(t);
      await actOnReviewCase(s.runtime.deps, maker, v.caseId, { type: 'claim' });
      await actOnReviewCase(s.runtime.deps, maker, v.caseId, {
        type: 'decide',
        decision: { outcome: 'approve', reasons: [], comment: '', checklist: all('verification', 'certified') },
      });
      const put = await call(s.baseUrl, 'PUT', `/v1/users/${v.userId}`, {
        token: t.token,
        body: { lastname: 'Ora-Smith' },
      });
      assert.equal(put.status, 200, put.text);
      const c = await findCaseOfVerification(s.runtime.deps.db, v.verificationId);
      assert.deepEqual([c?.state, c?.proposal], ['open', null]);
      await rejects(
        actOnReviewCase(s.runtime.deps, await person(['checker']), v.caseId, { type: 'approve' }),
        'conflict',
      );
    });

    test('a newer verification cancels the case of the one it replaces', async () => {
      const t = await tenant('certified');
      const v = await captured(t);
      await call(s.baseUrl, 'POST', `/v1/users/${v.userId}/kycliveness`, { token: t.token });
      const c = await findCaseOfVerification(s.runtime.deps.db, v.verificationId);
      assert.equal(c?.state, 'cancelled');
      assert.equal(updates(v.verificationId).length, 0);
    });

    test('a KYC review request opens a case; its decision sends user.kycreview with a dated comment', async () => {
      const t = await tenant('liveness');
      const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body: USER })).json.users[0];
      assert.equal((await call(s.baseUrl, 'PUT', `/v1/users/${u.userId}/Kycreview`, { token: t.token })).status, 200);
      const c = await findOpenKycCase(s.runtime.deps.db, Number(u.userId));
      assert.ok(c);
      const reviewer = await person(['reviewer']);
      await actOnReviewCase(s.runtime.deps, reviewer, c.id, { type: 'claim' });
      await actOnReviewCase(s.runtime.deps, reviewer, c.id, {
        type: 'decide',
        decision: {
          outcome: 'approve',
          reasons: [],
          comment: 'Documents complete',
          checklist: all('kyc_review', null),
          kycLevel: 3,
        },
      });
      await s.settle();
      const kr = rec.events('user.kycreview').filter((e) => e.object_id === String(u.userId));
      assert.equal(kr.length, 1);
      const wire = kr[0].object_payload.users[0];
      assert.deepEqual([wire.kycReview, wire.kycLevel], ['2', '3']);
      assert.match(wire.kycReviewComment, /^\d{4}-\d{2}-\d{2} Documents complete$/);
    });

    test('the audit chain holds; an entry changed afterwards is named by the check', async () => {
      const db = s.runtime.deps.db;
      await db.transaction((tx) =>
        audit(tx, { at: new Date(), actorType: 'system', action: 'test.marker', details: { n: 1 } }),
      );
      const ok = await verifyAuditChain(db);
      assert.equal(ok.ok, true, JSON.stringify(ok));
      assert.ok(ok.entries > 5, 'the acts above were audited');
      await rejects(db.query(`update audit_log set action = 'x' where seq = 1`), '42501');
      // Someone with the database's keys: triggers off, one row edited.
      const victim = Math.max(1, Math.floor(ok.entries / 2));
      await db.exec('alter table audit_log disable trigger audit_log_no_update');
      await db.query(`update audit_log set details = '{"outcome":"approve"}' where seq = $1`, [victim]);
      await db.exec('alter table audit_log enable trigger audit_log_no_update');
      const broken = await verifyAuditChain(db);
      assert.equal(broken.ok, false);
      assert.equal(broken.firstBroken?.seq, victim);
      assert.match(broken.firstBroken?.reason ?? '', /does not match its hash/);
    });
  });
}
