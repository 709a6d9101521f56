/**
 * The back office's reads, on both databases: the queues (filters, search, tenants, SLA) and the
 * case page (declared identity against the document, repeat-fraud signals across users of the staff
 * member's tenants, files), each view audited. The analysis is scripted here (a fixed document
 * number and face per person): the engine's own reading is tested in test/engine.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { simulatedResult } from '../../src/app/analysis/sandbox-analyzer.ts';
import { createClient } from '../../src/app/clients/create-client.ts';
import type { AnalysisInput, Analyzer } from '../../src/app/ports.ts';
import { getReviewCase } from '../../src/app/review/get-review-case.ts';
import { countReviewQueues, listReviewQueue } from '../../src/app/review/list-review-queue.ts';
import { openCaseFile } from '../../src/app/review/open-case-file.ts';
import { searchAudit } from '../../src/storage/db/repo/audit.ts';
import { findCaseOfVerification } from '../../src/storage/db/repo/review-cases.ts';
import { testDatabases } from '../helpers/databases.ts';
import { staffMember } from '../helpers/review.ts';
import { call, startTestServer, type TestServer } from '../helpers/runtime.ts';

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 7)]);
/** Each person's face: a 128-d descriptor; "twin" is within the accept distance of "alice". */
const face = (seed: number) => Array.from({ length: 128 }, (_, i) => Math.sin(seed * 7.1 + i) * 0.1);
const FACES: Record<string, number[]> = {
  Alice: face(1),
  Twin: face(1).map((x, i) => x + (i % 2 ? 0.01 : -0.01)),
  Bob: face(5),
};
const DOCS: Record<string, string> = { Alice: 'X4RTBPFW4', Twin: 'X4RTBPFW4', Bob: 'B7Z99QQ12' };

/** -1 for everyone (so every case goes to a human), with the person's document and face. */
function scriptedAnalyzer(): Analyzer {
  return {
    name: 'scripted',
    async analyze(input: AnalysisInput) {
      const who = input.expected?.firstname ?? '';
      const r = await simulatedResult(input, { score: -1, reasons: [], comment: 'scripted' }, new Date(), {
        simulated: false,
      });
      return {
        ...r,
        extracted: {
          firstname: who.toUpperCase(),
          lastname: 'DUPONT',
          birthday: '1990-02-15',
          documentNumber: DOCS[who],
        },
        evidence: {
          ...r.evidence,
          thresholds: { faceMatchAcceptDistance: 0.5 },
          checks: [{ name: 'face.presence', status: 'pass' }],
        },
        faceDescriptor: FACES[who],
      };
    },
  };
}

for (const backend of await testDatabases()) {
  describe(`back office reads on ${backend.name}`, { skip: backend.skip }, () => {
    let s: TestServer;
    let drop: () => Promise<void>;
    before(async () => {
      const o = await backend.open();
      drop = o.drop;
      s = await startTestServer(o.db, { analyzer: scriptedAnalyzer() });
    });
    after(async () => {
      await s?.close();
      await drop?.();
    });

    async function tenant() {
      const c = await createClient(s.runtime.deps.db, {
        name: `Bank ${randomUUID().slice(0, 4)}`,
        scopes: ['read_write', 'legal', 'admin'],
      });
      return { clientId: c.clientId, token: await s.token({ clientId: c.clientId, clientSecret: c.clientSecret }) };
    }

    async function captured(t: { token: string }, firstname: string, birthday = '1990-02-15') {
      const body = {
        userTypeId: 1,
        specifiedUSPerson: 0,
        email: `${firstname.toLowerCase()}@example.com`,
        firstname,
        lastname: 'Dupont',
        birthday,
      };
      const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body })).json.users[0];
      const v = (await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token: t.token })).json
        .identification;
      const ct = (v['identification-url'] as string).split('/').pop()!;
      for (const step of ['document_front', 'document_back', 'face'])
        await call(s.baseUrl, 'PUT', `/capture/v1/sessions/${ct}/media/${step}`, {
          raw: JPEG,
          headers: { 'content-type': 'image/jpeg' },
        });
      await call(s.baseUrl, 'POST', `/capture/v1/sessions/${ct}/complete`, { body: { documentType: 'id_card' } });
      await s.settle();
      const c = (await findCaseOfVerification(s.runtime.deps.db, v['identification-id']))!;
      return { userId: Number(u.userId), verificationId: v['identification-id'] as string, caseId: c.id };
    }

    test("the same document or the same face on another user shows on both cases; other tenants' users only to all-tenant staff", async () => {
      const a = await tenant();
      const b = await tenant();
      const alice = await captured(a, 'Alice');
      const twin = await captured(b, 'Twin', '1991-01-01');
      const bob = await captured(a, 'Bob');
      const everywhere = await staffMember(s.runtime.deps, ['reviewer']);
      const pageA = await getReviewCase(s.runtime.deps, everywhere, alice.caseId);
      const dupA = pageA.duplicates as {
        documentNumber: { userId: number; caseId: string }[];
        face: { userId: number; distance: number }[];
      };
      assert.deepEqual(
        dupA.documentNumber.map((d) => d.userId),
        [twin.userId],
      );
      assert.equal(dupA.documentNumber[0].caseId, twin.caseId, 'the other case is one click away');
      assert.deepEqual(
        dupA.face.map((d) => d.userId),
        [twin.userId],
      );
      assert.ok(dupA.face[0].distance < 0.5);
      const pageTwin = await getReviewCase(s.runtime.deps, everywhere, twin.caseId);
      assert.deepEqual(
        (pageTwin.duplicates as typeof dupA).documentNumber.map((d) => d.userId),
        [alice.userId],
      );
      // Bob shares nothing with anyone.
      const pageBob = await getReviewCase(s.runtime.deps, everywhere, bob.caseId);
      assert.deepEqual(pageBob.duplicates, { documentNumber: [], face: [] });
      // Staff of tenant A only: the twin in tenant B is not theirs to see.
      const onlyA = await staffMember(s.runtime.deps, ['reviewer'], [a.clientId]);
      assert.deepEqual((await getReviewCase(s.runtime.deps, onlyA, alice.caseId)).duplicates, {
        documentNumber: [],
        face: [],
      });
      await assert.rejects(
        getReviewCase(s.runtime.deps, onlyA, twin.caseId),
        (e: { code?: string }) => e.code === 'not_found',
      );
      // The declared identity against the document's: the birthday of the twin differs.
      const identity = (pageTwin.verification as { identity: { field: string; result: string }[] }).identity;
      assert.deepEqual(
        identity.map((r) => [r.field, r.result]),
        [
          ['firstname', 'match'],
          ['lastname', 'match'],
          ['birthday', 'mismatch'],
        ],
      );
      const views = await searchAudit(s.runtime.deps.db, {
        tenants: null,
        targetType: 'review_case',
        targetId: alice.caseId,
        limit: 10,
      });
      assert.ok(views.some((e) => e.action === 'case.view' && e.actorId === everywhere.id));
    });

    test('queues: tenants, filters, search by name or document number, counts and the SLA', async () => {
      const a = await tenant();
      const b = await tenant();
      const carol = await captured(a, 'Bob');
      await captured(b, 'Bob');
      const onlyA = await staffMember(s.runtime.deps, ['viewer'], [a.clientId]);
      const q = await listReviewQueue(s.runtime.deps, onlyA, {});
      assert.ok(q.cases.every((c) => c.clientId === a.clientId));
      assert.ok(q.cases.some((c) => c.id === carol.caseId));
      assert.equal((await listReviewQueue(s.runtime.deps, onlyA, { clientId: b.clientId })).total, 0);
      const all = await staffMember(s.runtime.deps, ['viewer']);
      const byDoc = await listReviewQueue(s.runtime.deps, all, { search: DOCS.Bob });
      assert.ok(byDoc.cases.length >= 2 && byDoc.cases.every((c) => c.name === 'Bob Dupont'));
      const byId = await listReviewQueue(s.runtime.deps, all, { search: String(carol.userId) });
      assert.deepEqual(
        byId.cases.map((c) => c.id),
        [carol.caseId],
      );
      assert.equal((await listReviewQueue(s.runtime.deps, all, { search: 'bob@example' })).cases.length >= 2, true);
      assert.equal((await listReviewQueue(s.runtime.deps, all, { assignee: 'me' })).total, 0);
      assert.equal((await listReviewQueue(s.runtime.deps, all, { overdue: true })).total, 0);
      s.clock.advance(25 * 3600_000);
      const late = await listReviewQueue(s.runtime.deps, all, { overdue: true, clientId: a.clientId });
      assert.ok(late.cases.some((c) => c.id === carol.caseId && c.overdue && c.slaRemainingMinutes < 0));
      const counts = await countReviewQueues(s.runtime.deps, onlyA);
      assert.ok(
        counts.some((c) => c.kind === 'verification' && c.state === 'open' && c.waiting >= 1 && c.overdue >= 1),
      );
      const page1 = await listReviewQueue(s.runtime.deps, all, { pageSize: 1, sort: 'opened', order: 'desc' });
      assert.equal(page1.cases.length, 1);
      assert.ok(page1.total > 1);
    });

    test("a case's files open for its tenant's staff, each opening audited", async () => {
      const a = await tenant();
      const v = await captured(a, 'Bob');
      const staff = await staffMember(s.runtime.deps, ['viewer'], [a.clientId]);
      const page = await getReviewCase(s.runtime.deps, staff, v.caseId);
      const files = (page.verification as { files: { ref: string; kind: string }[] }).files;
      const report = files.find((f) => f.kind === 'report')!;
      const f = await openCaseFile(s.runtime.deps, staff, v.caseId, report.ref);
      const chunks: Buffer[] = [];
      for await (const c of f.stream) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).subarray(0, 5).toString(), '%PDF-');
      assert.equal(f.contentType, 'application/pdf');
      const video = await openCaseFile(s.runtime.deps, staff, v.caseId, 'media:face');
      video.stream.resume();
      await assert.rejects(
        openCaseFile(s.runtime.deps, staff, v.caseId, 'media:nope'),
        (e: { code?: string }) => e.code === 'not_found',
      );
      const other = await staffMember(s.runtime.deps, ['viewer'], ['another-tenant']);
      await assert.rejects(
        openCaseFile(s.runtime.deps, other, v.caseId, report.ref),
        (e: { code?: string }) => e.code === 'not_found',
      );
      const log = await searchAudit(s.runtime.deps.db, { tenants: [a.clientId], targetId: v.caseId, limit: 10 });
      assert.equal(log.filter((e) => e.action === 'case.file').length, 2);
    });
  });
}
