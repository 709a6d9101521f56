/**
 * Jobs and webhook deliveries under failure, on PGlite and PostgreSQL: a worker that dies
 * mid-job, an analysis that keeps failing, receivers that fail, refuse or recover.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Analyzer } from '../src/app/ports.ts';
import { runAnalysis } from '../src/app/analysis/run-analysis.ts';
import { createSandboxAnalyzer } from '../src/app/analysis/sandbox-analyzer.ts';
import { emitEvent } from '../src/app/outbox.ts';
import { findCaseOfVerification } from '../src/storage/db/repo/review-cases.ts';
import { expireVerifications } from '../src/app/verifications/expire-verifications.ts';
import { testDatabases } from './helpers/databases.ts';
import { startTestServer, call, type TestServer } from './helpers/runtime.ts';
import { approveVerificationCase } from './helpers/review.ts';
import { startReceiver } from './helpers/webhook-receiver.ts';

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 7)]);
const USER = {
  userTypeId: 1,
  specifiedUSPerson: 0,
  email: 'w@example.com',
  firstname: 'Wu',
  lastname: 'Lin',
  birthday: '1979-03-04',
};

/** Fails on demand: stands in for an engine that crashes, to exercise the runner's retry and give-up path. */
function flakyAnalyzer(clock: { now(): Date }) {
  const inner = createSandboxAnalyzer(clock);
  const state = { failuresLeft: 0, calls: 0 };
  const analyzer: Analyzer = {
    name: 'flaky',
    async analyze(input) {
      state.calls++;
      if (state.failuresLeft-- > 0) throw new Error('engine crashed');
      return inner.analyze(input);
    },
  };
  return { analyzer, state };
}

for (const backend of await testDatabases()) {
  describe(`background work on ${backend.name}`, { skip: backend.skip }, () => {
    let s: TestServer;
    let drop: () => Promise<void>;
    let flaky: ReturnType<typeof flakyAnalyzer>;
    before(async () => {
      const o = await backend.open();
      drop = o.drop;
      const clock = { now: () => new Date() };
      flaky = flakyAnalyzer(clock);
      s = await startTestServer(o.db, { analyzer: flaky.analyzer });
    });
    after(async () => {
      await s?.close();
      await drop?.();
    });

    async function capturedVerification(hookUrl: string) {
      const c = await s.newClient();
      const token = await s.token(c);
      await call(s.baseUrl, 'POST', '/settings/hooks', { token, body: { url: hookUrl } });
      const u = (await call(s.baseUrl, 'POST', '/v1/users', { token, body: USER })).json.users[0];
      const v = (await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token })).json.identification;
      const ct = (v['identification-url'] as string).split('/').pop()!;
      for (const step of ['document_front', 'document_back', 'face']) {
        const r = await call(s.baseUrl, 'PUT', `/capture/v1/sessions/${ct}/media/${step}`, {
          raw: JPEG,
          headers: { 'content-type': 'image/jpeg' },
        });
        assert.equal(r.status, 201, r.text);
      }
      return { token, userId: u.userId as string, id: v['identification-id'] as string, captureToken: ct };
    }

    /** A fresh tenant subscribed to `hookUrl`, with one user. */
    async function hookedUser(hookUrl: string) {
      const c = await s.newClient();
      const token = await s.token(c);
      await call(s.baseUrl, 'POST', '/settings/hooks', { token, body: { url: hookUrl } });
      const u = (await call(s.baseUrl, 'POST', '/v1/users', { token, body: USER })).json.users[0];
      return { c, token, userId: u.userId as string };
    }

    test('a job whose worker died is taken over after its lease; the case it opens is decided once, and sent once', async () => {
      const rec = await startReceiver();
      try {
        await s.runtime.jobs.stop();
        const v = await capturedVerification(rec.url);
        const done = await call(s.baseUrl, 'POST', `/capture/v1/sessions/${v.captureToken}/complete`, {
          body: { documentType: 'id_card', metadata: { webdriver: false } },
        });
        assert.equal(done.status, 200, done.text);
        assert.match(done.json.redirectUrl, /status=processing&return_reason=none&error_type=none/);
        // A worker claimed the job and died: running, lease in the future.
        await s.runtime.deps.db.query(
          `update jobs set state = 'running', attempts = 1, locked_by = 'dead-worker', locked_until = $2 where payload->>'verificationId' = $1`,
          [v.id, new Date(s.clock.now().getTime() + 300_000)],
        );
        s.runtime.jobs.start();
        await s.settle();
        const st = (await call(s.baseUrl, 'GET', `/v1/users/${v.userId}/kycliveness`, { token: v.token })).json;
        assert.equal(st['kyc-status'], 'processing', 'the lease is respected');
        s.clock.advance(301_000);
        await s.settle();
        // The sandbox analyzer does not pretend to analyse real media: -1, so a human decides, and
        // the verification stays processing meanwhile.
        const fresh = await call(s.baseUrl, 'GET', `/v1/users/${v.userId}/kycliveness`, { token: v.token });
        assert.equal(fresh.json['kyc-status'], 'processing');
        const c = await findCaseOfVerification(s.runtime.deps.db, v.id);
        assert.deepEqual([c?.state, c?.recommendation?.score], ['open', -1]);
        // The dead worker's run finishing late (or a duplicate run) changes nothing.
        assert.equal(await runAnalysis(s.runtime.deps, createSandboxAnalyzer(s.clock), v.id), 'skipped');
        await s.settle();
        assert.equal(rec.events('kycliveness.update').length, 0);
        await approveVerificationCase(s.runtime.deps, v.id);
        await s.settle();
        assert.equal(rec.events('kycliveness.create').length, 1);
        assert.equal(rec.events('kycliveness.update').length, 1);
        const job = await s.runtime.deps.db.query<{ state: string; attempts: number }>(
          `select state, attempts from jobs where payload->>'verificationId' = $1`,
          [v.id],
        );
        assert.deepEqual(job.rows[0], { state: 'done', attempts: 2 });
      } finally {
        await rec.close();
      }
    });

    test('an analysis that fails every attempt goes to a human with 1901 and score -1 recommended', async () => {
      const rec = await startReceiver();
      try {
        const v = await capturedVerification(rec.url);
        flaky.state.failuresLeft = 100;
        const calls = flaky.state.calls;
        await call(s.baseUrl, 'POST', `/capture/v1/sessions/${v.captureToken}/complete`, { body: {} });
        for (let i = 0; i < 6; i++) {
          await s.settle();
          s.clock.advance(10 * 60_000);
        }
        await s.settle();
        flaky.state.failuresLeft = 0;
        assert.equal(flaky.state.calls - calls, 5, 'max_attempts');
        assert.equal(rec.events('kycliveness.update').length, 0, 'a human decides first');
        const c = await findCaseOfVerification(s.runtime.deps.db, v.id);
        assert.deepEqual(
          [c?.state, c?.queueReason, c?.recommendation?.score, c?.recommendation?.reasons],
          ['open', 'undecided', -1, [1901]],
        );
        await approveVerificationCase(s.runtime.deps, v.id);
        await s.settle();
        assert.equal(rec.events('kycliveness.update').length, 1);
      } finally {
        await rec.close();
      }
    });

    test('deliveries retry with backoff until the receiver recovers, every attempt logged; 410 abandons; replay resends', async () => {
      let failFirst = 2;
      const rec = await startReceiver(() => (failFirst-- > 0 ? 503 : 200));
      try {
        const c = await s.newClient();
        const token = await s.token(c);
        await call(s.baseUrl, 'POST', '/settings/hooks', { token, body: { url: rec.url } });
        await call(s.baseUrl, 'POST', '/v1/users', { token, body: USER });
        const u = (await call(s.baseUrl, 'POST', '/v1/users', { token, body: USER })).json.users[0];
        await call(s.baseUrl, 'PUT', `/v1/users/${u.userId}/Kycreview`, { token });
        await s.settle();
        assert.equal(rec.attempts(), 1);
        s.clock.advance(5_000);
        await s.settle();
        s.clock.advance(10_000);
        await s.settle();
        assert.equal(rec.attempts(), 3);
        assert.equal(rec.events('user.kycrequest').length, 1);
        const log = (await call(s.baseUrl, 'GET', '/admin/webhooks/deliveries', { token })).json.deliveries;
        assert.equal(log.length, 1);
        assert.equal(log[0].state, 'delivered');
        assert.deepEqual(
          log[0].log.map((a: any) => a.status),
          [503, 503, 200],
        );

        const replay = await call(s.baseUrl, 'POST', `/admin/webhooks/deliveries/${log[0].deliveryId}/replay`, {
          token,
        });
        assert.equal(replay.status, 202);
        await s.settle();
        assert.equal(rec.events('user.kycrequest').length, 2);
        const other = await s.newClient();
        assert.equal(
          (
            await call(s.baseUrl, 'POST', `/admin/webhooks/deliveries/${log[0].deliveryId}/replay`, {
              token: await s.token(other),
            })
          ).status,
          404,
        );
      } finally {
        await rec.close();
      }

      const gone = await startReceiver(() => 410);
      try {
        const c = await s.newClient();
        const token = await s.token(c);
        await call(s.baseUrl, 'POST', '/settings/hooks', { token, body: { url: gone.url } });
        const u = (await call(s.baseUrl, 'POST', '/v1/users', { token, body: USER })).json.users[0];
        await call(s.baseUrl, 'PUT', `/v1/users/${u.userId}/Kycreview`, { token });
        await s.settle();
        s.clock.advance(3600_000);
        await s.settle();
        assert.equal(gone.attempts(), 1);
        const log = (
          await call(s.baseUrl, 'GET', '/admin/webhooks/deliveries?state=abandoned', { token: await s.token(c) })
        ).json.deliveries;
        assert.equal(log.length, 1);
      } finally {
        await gone.close();
      }
    });

    test('a delivery whose sender died is sent again once its lease lapses, beside a backlog larger than the concurrency', async () => {
      const rec = await startReceiver();
      try {
        const { c, token, userId } = await hookedUser(rec.url);
        await call(s.baseUrl, 'PUT', `/v1/users/${userId}/Kycreview`, { token });
        await s.settle();
        assert.equal(rec.events('user.kycrequest').length, 1);
        const db = s.runtime.deps.db;
        // A sender claimed it again and died: delivering, lease in the future.
        await db.query(
          `update webhook_deliveries set state = 'delivering', locked_until = $2
                          where event_id in (select id from events where client_id = $1)`,
          [c.clientId, new Date(s.clock.now().getTime() + 60_000)],
        );
        // Meanwhile more is due than one claim takes (the dispatcher sends 64 at a time).
        await db.transaction(async (tx) => {
          for (let i = 0; i < 100; i++)
            await emitEvent(
              tx,
              { clientId: c.clientId, name: 'bench.ping', object: 'bench', objectId: String(i), payload: { i } },
              s.clock.now(),
            );
        });
        await s.settle();
        assert.equal(rec.events('bench.ping').length, 100);
        assert.equal(rec.events('user.kycrequest').length, 1, 'the lease is respected');
        s.clock.advance(61_000);
        await s.settle();
        assert.equal(rec.events('user.kycrequest').length, 2, 'sent again, same webhook_id: receivers dedupe on it');
        const states = await db.query<{ state: string; n: number }>(
          `select d.state, count(*)::int as n from webhook_deliveries d join events e on e.id = d.event_id
                                                                       where e.client_id = $1 group by d.state`,
          [c.clientId],
        );
        assert.deepEqual(
          states.rows.map((r) => r.state),
          ['delivered'],
        );
      } finally {
        await rec.close();
      }
    });

    test('a state change and its webhook commit together: a failed import emits nothing', async () => {
      const rec = await startReceiver();
      try {
        const { c, token, userId } = await hookedUser(rec.url);
        const v = (await call(s.baseUrl, 'POST', `/v1/users/${userId}/kycliveness`, { token })).json.identification;
        await call(s.baseUrl, 'POST', `/simulation/kycliveness/${v['identification-id']}`, {
          token,
          body: { outcome: 'processed' },
        });
        await s.settle();
        const events = await s.runtime.deps.db.query<{ n: number }>(
          `select count(*)::int as n from events where client_id = $1`,
          [c.clientId],
        );
        // A constraint that refuses the report's row makes the import's transaction fail half-way.
        await s.runtime.deps.db.query(
          `alter table documents add constraint kyclive_test_block check (name <> 'liveness_result.pdf') not valid`,
        );
        try {
          const r = await call(s.baseUrl, 'PUT', `/v1/users/${userId}/kycliveness`, { token });
          assert.equal(r.status, 500);
          assert.doesNotMatch(r.text, /constraint|kyclive_test_block|documents/);
        } finally {
          await s.runtime.deps.db.query(`alter table documents drop constraint kyclive_test_block`);
        }
        const after = await s.runtime.deps.db.query<{ n: number }>(
          `select count(*)::int as n from events where client_id = $1`,
          [c.clientId],
        );
        assert.equal(after.rows[0].n, events.rows[0].n);
        const ok = await call(s.baseUrl, 'PUT', `/v1/users/${userId}/kycliveness`, { token });
        assert.equal(ok.status, 200);
        await s.settle();
        assert.equal(rec.events('document.create').length, 1);
      } finally {
        await rec.close();
      }
    });

    // Last: it moves the server's clock on by a verification's lifetime.
    test('the expiry sweep writes down every expired unused link, in batches, and leaves the others', async () => {
      const db = s.runtime.deps.db;
      const c = await s.newClient();
      const token = await s.token(c);
      const userId = (await call(s.baseUrl, 'POST', '/v1/users', { token, body: USER })).json.users[0].userId;
      const other = (await call(s.baseUrl, 'POST', '/v1/users', { token, body: USER })).json.users[0].userId;
      const v = (await call(s.baseUrl, 'POST', `/v1/users/${userId}/kycliveness`, { token })).json.identification[
        'identification-id'
      ];
      // 450 links of another user that expired long ago and were never swept: more than one batch.
      await db.query(
        `insert into verifications (id, client_id, user_id, method, state, capture_token_hash, redirect_url, expires_at, created_at)
         select gen_random_uuid(), client_id, $2, method, 'initiated', 'old-' || g, redirect_url, $3::timestamptz - interval '1 day', $3::timestamptz - interval '8 days'
           from verifications, generate_series(1, 450) g where id = $1`,
        [v, Number(other), s.clock.now()],
      );
      assert.equal(await expireVerifications(s.runtime.deps), 450);
      const live = await db.query<{ state: string }>('select state from verifications where id = $1', [v]);
      assert.equal(live.rows[0].state, 'initiated', 'a link still in its lifetime stays open');
      s.clock.advance((s.runtime.config.verificationTtlSeconds + 60) * 1000);
      assert.equal(await expireVerifications(s.runtime.deps), 1);
      assert.equal(await expireVerifications(s.runtime.deps), 0, 'nothing twice');
      const states = await db.query<{ state: string; n: number }>(
        'select state, count(*)::int as n from verifications where client_id = $1 group by state',
        [c.clientId],
      );
      assert.deepEqual(Object.fromEntries(states.rows.map((r) => [r.state, r.n])), { expired: 451 });
      assert.equal(
        (await call(s.baseUrl, 'GET', `/v1/users/${userId}/kycliveness`, { token: await s.token(c) })).json[
          'kyc-status'
        ],
        'expired',
      );
    });
  });
}
