import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KycError } from '../errors.ts';
import { effectiveState, initiate, transition, type VerificationEvent } from './transitions.ts';
import { VERIFICATION_STATES, type VerificationState } from './states.ts';

const now = new Date('2026-11-26T10:00:00Z');
const future = new Date('2026-12-03T10:00:00Z');
const past = new Date('2026-11-26T09:59:59Z');
const v = (state: VerificationState, expiresAt = future) => ({ id: 'v1', state, expiresAt, startedAt: null });

const ABORT: VerificationEvent = { type: 'abort', returnReason: 'refusal', errorType: 'none' };
const DONE: VerificationEvent = { type: 'analysis_done', score: 1, reasons: [], comment: '' };

// [from, event, expected next state | error code, effects]
const TABLE: [VerificationState, VerificationEvent, VerificationState | `error:${string}` | 'unchanged', string[]][] = [
  ['initiated', { type: 'open' }, 'unchanged', []],
  ['initiated', { type: 'complete' }, 'processing', ['emit:kycliveness.create', 'enqueue_analysis']],
  ['initiated', ABORT, 'aborted', ['emit:kycliveness.create']],
  ['initiated', DONE, 'unchanged', []],
  ['initiated', { type: 'supersede', by: 'v2' }, 'superseded', []],
  ['processing', { type: 'complete' }, 'error:conflict', []],
  ['processing', ABORT, 'error:conflict', []],
  ['processing', DONE, 'processed', ['emit:kycliveness.update']],
  ['processing', { type: 'supersede', by: 'v2' }, 'superseded', []],
  ['processed', DONE, 'unchanged', []],
  ['processed', { type: 'supersede', by: 'v2' }, 'unchanged', []],
  ['aborted', { type: 'supersede', by: 'v2' }, 'unchanged', []],
  ['expired', { type: 'supersede', by: 'v2' }, 'unchanged', []],
  ['superseded', { type: 'supersede', by: 'v2' }, 'unchanged', []],
  ['initiated', { type: 'expire' }, 'unchanged', []],
  ['processing', { type: 'expire' }, 'unchanged', []],
  ['processed', { type: 'open' }, 'error:conflict', []],
  ['aborted', { type: 'complete' }, 'error:conflict', []],
  ['superseded', { type: 'open' }, 'error:gone', []],
  ['superseded', { type: 'complete' }, 'error:gone', []],
  ['superseded', DONE, 'unchanged', []],
  ['expired', { type: 'complete' }, 'error:gone', []],
];

for (const [from, event, expected, effects] of TABLE) {
  test(`${from} + ${event.type} → ${expected}`, () => {
    if (expected.startsWith('error:')) {
      assert.throws(
        () => transition(v(from), event, now),
        (e: unknown) => e instanceof KycError && e.code === expected.slice(6),
      );
      return;
    }
    const r = transition(v(from), event, now);
    assert.equal(r.patch.state ?? 'unchanged', expected);
    assert.deepEqual(
      r.effects.map((e) => (e.type === 'emit' ? `emit:${e.webhook}` : e.type)),
      effects,
    );
  });
}

test('an initiated verification past its lifetime is expired, refuses capture and can be marked expired', () => {
  assert.equal(effectiveState(v('initiated', past), now), 'expired');
  assert.equal(effectiveState(v('processing', past), now), 'processing');
  assert.throws(
    () => transition(v('initiated', past), { type: 'complete' }, now),
    (e: unknown) => e instanceof KycError && e.code === 'gone',
  );
  assert.equal(transition(v('initiated', past), { type: 'expire' }, now).patch.state, 'expired');
  assert.deepEqual(transition(v('initiated', future), { type: 'expire' }, now).patch, {});
});

test('a newer verification writes down the expiry of an unused link past its lifetime, instead of superseding it', () => {
  assert.deepEqual(transition(v('initiated', past), { type: 'supersede', by: 'v2' }, now).patch, { state: 'expired' });
  assert.deepEqual(transition(v('processing', past), { type: 'supersede', by: 'v2' }, now).patch, {
    state: 'superseded',
    supersededBy: 'v2',
  });
});

test('initiate opens a verification for its lifetime, with a challenge script for the certified method only', () => {
  const base = { id: 'v9', redirectUrl: 'https://x.example/', challenges: [{ kind: 'blink' }], ttlSeconds: 60 };
  const l = initiate({ ...base, method: 'liveness' }, now);
  assert.equal(l.state, 'initiated');
  assert.deepEqual(l.challenges, []);
  assert.equal(l.expiresAt.getTime(), now.getTime() + 60_000);
  assert.deepEqual(initiate({ ...base, method: 'certified' }, now).challenges, [{ kind: 'blink' }]);
});

test('analysis results are validated and deduplicated', () => {
  assert.throws(
    () => transition(v('processing'), { type: 'analysis_done', score: 2, reasons: [], comment: '' }, now),
    /score/,
  );
  assert.throws(
    () => transition(v('processing'), { type: 'analysis_done', score: 0, reasons: [1234], comment: '' }, now),
    /Unknown reason code/,
  );
  const r = transition(
    v('processing'),
    { type: 'analysis_done', score: 0, reasons: [2304, 2304, 1301], comment: '' },
    now,
  );
  assert.deepEqual(r.patch.reasons, [2304, 1301]);
});

test('abort accepts only documented rows', () => {
  assert.throws(
    () => transition(v('initiated'), { type: 'abort', returnReason: 'none', errorType: 'none' }, now),
    (e: unknown) => e instanceof KycError && e.code === 'invalid_request',
  );
  assert.throws(() =>
    transition(v('initiated'), { type: 'abort', returnReason: 'error', errorType: 'challenge_timeout' }, now),
  );
  assert.equal(
    transition(
      v('initiated'),
      { type: 'abort', returnReason: 'face_instructions_not_followed', errorType: 'challenge_timeout' },
      now,
    ).patch.state,
    'aborted',
  );
});

test('open records the first start only', () => {
  assert.deepEqual(transition(v('initiated'), { type: 'open' }, now).patch, { startedAt: now });
  assert.deepEqual(transition({ ...v('initiated'), startedAt: past }, { type: 'open' }, now).patch, {});
});

test('every stored state is covered by the table', () => {
  const covered = new Set(TABLE.map((r) => r[0]));
  for (const s of VERIFICATION_STATES) assert.ok(covered.has(s), s);
});
