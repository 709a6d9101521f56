/** KYC review with a parent and its children: the review covers the parent; children's documents are listed. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openPgliteThread } from '../src/storage/db/pglite-thread.ts';
import { startTestServer, call, type TestServer } from './helpers/runtime.ts';
import { startReceiver } from './helpers/webhook-receiver.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer(await openPgliteThread());
});
after(async () => {
  await s.close();
});

test('parent review covers its children; a child cannot ask for its own; decisions need a pending review', async () => {
  const rec = await startReceiver();
  try {
    const c = await s.newClient();
    const token = await s.token(c);
    await call(s.baseUrl, 'POST', '/settings/hooks', { token, body: { url: rec.url } });
    const base = { userTypeId: 1, specifiedUSPerson: 0, firstname: 'P', lastname: 'Arent', birthday: '1970-01-01' };
    const parent = (await call(s.baseUrl, 'POST', '/v1/users', { token, body: { ...base, email: 'p@example.com' } }))
      .json.users[0];
    const child = (
      await call(s.baseUrl, 'POST', '/v1/users', {
        token,
        body: { ...base, email: 'c@example.com', firstname: 'C', parentUserId: parent.userId, parentType: 'leader' },
      })
    ).json.users[0];
    assert.equal(child.parentUserId, parent.userId);
    assert.equal(child.parentType, 'leader');
    // A parent from another tenant is refused.
    const other = await s.newClient();
    const r = await call(s.baseUrl, 'POST', '/v1/users', {
      token: await s.token(other),
      body: { ...base, email: 'x@example.com', parentUserId: parent.userId },
    });
    assert.equal(r.status, 400);

    // The child goes through live verification; its documents appear in the parent's dossier.
    const v = (await call(s.baseUrl, 'POST', `/v1/users/${child.userId}/kycliveness`, { token })).json.identification;
    await call(s.baseUrl, 'POST', `/simulation/kycliveness/${v['identification-id']}`, {
      token,
      body: { outcome: 'processed' },
    });
    await s.settle();
    await call(s.baseUrl, 'PUT', `/v1/users/${child.userId}/kycliveness`, { token });

    assert.equal(
      (
        await call(s.baseUrl, 'POST', `/admin/users/${parent.userId}/kycreview/decision`, {
          token,
          body: { decision: 'validated' },
        })
      ).status,
      409,
    );
    const childAsk = await call(s.baseUrl, 'PUT', `/v1/users/${child.userId}/Kycreview`, { token });
    assert.equal(childAsk.status, 400);
    assert.match(childAsk.json.errors[0].message, /parent/);

    const asked = await call(s.baseUrl, 'PUT', `/v1/users/${parent.userId}/Kycreview`, { token });
    assert.equal(asked.json.users[0].kycReview, '1');
    assert.equal((await call(s.baseUrl, 'GET', `/v1/users/${child.userId}`, { token })).json.users[0].kycReview, '1');
    // Asking again while pending changes nothing and emits nothing more.
    await call(s.baseUrl, 'PUT', `/v1/users/${parent.userId}/Kycreview`, { token });

    const dossier = (await call(s.baseUrl, 'GET', `/admin/users/${parent.userId}/kycreview`, { token })).json;
    assert.deepEqual(
      dossier.children.map((u: any) => u.userId),
      [child.userId],
    );
    assert.deepEqual(
      dossier.documents.map((d: any) => [d.userId, d.documentTypeId]),
      [[child.userId, '26']],
    );

    for (const body of [
      {},
      { decision: 'maybe' },
      { decision: 'refused', kycLevel: 9 },
      { decision: 'refused', comment: 5 },
    ]) {
      assert.equal(
        (await call(s.baseUrl, 'POST', `/admin/users/${parent.userId}/kycreview/decision`, { token, body })).status,
        400,
        JSON.stringify(body),
      );
    }
    const refused = await call(s.baseUrl, 'POST', `/admin/users/${parent.userId}/kycreview/decision`, {
      token,
      body: { decision: 'refused', comment: 'Document not accepted' },
    });
    assert.equal(refused.json.users[0].kycReview, '3');
    assert.equal(refused.json.users[0].kycLevel, '4');
    await s.settle();
    assert.equal(rec.events('user.kycrequest').length, 1);
    const reviews = rec.events('user.kycreview');
    assert.deepEqual(reviews.map((e) => e.object_id).sort(), [parent.userId, child.userId].sort());
    assert.equal(reviews[0].object_payload.users[0].kycReviewComment, 'Document not accepted');
  } finally {
    await rec.close();
  }
});
