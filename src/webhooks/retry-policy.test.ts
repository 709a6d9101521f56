import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyResponse,
  MAX_ATTEMPT_WINDOW_MS,
  MAX_ATTEMPTS,
  MAX_DELAY_MS,
  nextAttemptDelayMs,
  shouldRetry,
} from './retry-policy.ts';

const HOUR = 3_600_000;

test('classifies 2xx as delivered, 410 as give_up and everything else as retry', () => {
  for (const status of [200, 201, 202, 204, 299]) assert.equal(classifyResponse({ status }), 'delivered');
  assert.equal(classifyResponse({ status: 410 }), 'give_up');
  for (const status of [301, 302, 307, 400, 401, 403, 404, 408, 409, 413, 425, 429, 500, 502, 503, 504]) {
    assert.equal(classifyResponse({ status }), 'retry', String(status));
  }
  assert.equal(classifyResponse({ networkError: true }), 'retry');
  assert.equal(classifyResponse({ timedOut: true }), 'retry');
  assert.equal(classifyResponse({}), 'retry');
  assert.equal(classifyResponse({ status: 200, timedOut: true }), 'delivered');
});

test('delays grow ×2 from 5 s, with equal jitter, and never exceed the 1 h cap', () => {
  for (let attempt = 1; attempt <= 80; attempt++) {
    const ceiling = Math.min(MAX_DELAY_MS, 5000 * 2 ** (attempt - 1));
    for (const r of [0, 0.25, 0.5, 0.999999, 1, -3, 7]) {
      const d = nextAttemptDelayMs(attempt, () => r);
      assert.ok(d >= ceiling / 2 && d <= ceiling, `attempt ${attempt} r ${r}: ${d}`);
      assert.ok(d <= MAX_DELAY_MS);
    }
  }
  assert.equal(
    nextAttemptDelayMs(1, () => 0),
    2500,
  );
  assert.equal(
    nextAttemptDelayMs(1, () => 0.999999),
    4999,
  );
  assert.equal(
    nextAttemptDelayMs(11, () => 0),
    30 * 60_000,
  );
  assert.throws(() => nextAttemptDelayMs(0, Math.random), RangeError);
});

/** Replays the dispatcher's loop against an always-failing receiver; returns the attempt times. */
function simulate(random: () => number): number[] {
  const first = new Date(0);
  const times = [0];
  for (let attempt = 1; shouldRetry(attempt, first, new Date(times[attempt - 1]), 'retry'); attempt++) {
    times.push(times[attempt - 1] + nextAttemptDelayMs(attempt, random));
  }
  return times;
}

test('an always-failing receiver is retried for at least 24 h, whatever the jitter', () => {
  for (const random of [() => 0, () => 0.5, () => 0.999999, Math.random]) {
    const times = simulate(random);
    const span = times[times.length - 1];
    assert.ok(span >= 24 * HOUR, `span ${span / HOUR} h`);
    assert.ok(span < MAX_ATTEMPT_WINDOW_MS + MAX_DELAY_MS, `span ${span / HOUR} h`);
    assert.ok(times.length < MAX_ATTEMPTS, `${times.length} attempts`);
  }
  assert.equal(simulate(() => 0).length, 62);
  assert.equal(simulate(() => 0.999999).length, 36);
});

test('stops retrying on delivered, give_up, an exhausted window or the attempt backstop', () => {
  const first = new Date(0);
  const early = new Date(HOUR);
  assert.equal(shouldRetry(1, first, early, 'retry'), true);
  assert.equal(shouldRetry(1, first, early, 'delivered'), false);
  assert.equal(shouldRetry(1, first, early, 'give_up'), false);
  assert.equal(shouldRetry(5, first, new Date(MAX_ATTEMPT_WINDOW_MS - 1), 'retry'), true);
  assert.equal(shouldRetry(5, first, new Date(MAX_ATTEMPT_WINDOW_MS), 'retry'), false);
  assert.equal(shouldRetry(MAX_ATTEMPTS, first, early, 'retry'), false);
});
