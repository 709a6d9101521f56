import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, REASON_MESSAGES } from '../../src/engine/policy.ts';
import type { CheckResult } from '../../src/engine/types.ts';

const c = (name: string, status: CheckResult['status'], reason?: number): CheckResult => ({
  name,
  status,
  reason,
  measurement: null,
  threshold: null,
});

const table: {
  name: string;
  checks: CheckResult[];
  method?: 'liveness' | 'certified';
  c2399?: boolean;
  score: 1 | 0 | -1;
  reasons: number[];
}[] = [
  { name: 'all pass → valid', checks: [c('a', 'pass', 1311), c('b', 'pass', 2301)], score: 1, reasons: [] },
  { name: 'skipped checks do not matter', checks: [c('a', 'pass'), c('b', 'skipped', 2302)], score: 1, reasons: [] },
  {
    name: 'one capture failure → refused with its code',
    checks: [c('a', 'fail', 1313), c('b', 'pass')],
    score: 0,
    reasons: [1313],
  },
  {
    name: 'capture and refusal codes are both listed, sorted, unique',
    checks: [c('a', 'fail', 2304), c('b', 'fail', 1310), c('c', 'fail', 1310)],
    score: 0,
    reasons: [1310, 2304],
  },
  {
    name: 'inconclusive only → human review, no code',
    checks: [c('a', 'pass'), c('b', 'inconclusive', 2304)],
    score: -1,
    reasons: [],
  },
  {
    name: 'a failure wins over inconclusive',
    checks: [c('a', 'fail', 2101), c('b', 'inconclusive', 2304)],
    score: 0,
    reasons: [2101],
  },
  {
    name: 'certified + 2399: fraud codes replaced',
    checks: [c('a', 'fail', 2304), c('b', 'fail', 2402), c('c', 'fail', 1313)],
    method: 'certified',
    c2399: true,
    score: 0,
    reasons: [1313, 2399],
  },
  {
    name: 'certified without 2399 keeps codes',
    checks: [c('a', 'fail', 2304)],
    method: 'certified',
    c2399: false,
    score: 0,
    reasons: [2304],
  },
  {
    name: 'liveness never uses 2399',
    checks: [c('a', 'fail', 2304)],
    method: 'liveness',
    c2399: true,
    score: 0,
    reasons: [2304],
  },
  {
    name: '2101 expiry is not a fraud code',
    checks: [c('a', 'fail', 2101)],
    method: 'certified',
    c2399: true,
    score: 0,
    reasons: [2101],
  },
  { name: '2403 is never automated', checks: [c('a', 'fail', 2403)], score: 1, reasons: [] },
];

for (const row of table) {
  test(`policy: ${row.name}`, () => {
    const v = decide(row.checks, { method: row.method ?? 'liveness', certifiedFraudCode2399: row.c2399 ?? false });
    assert.equal(v.score, row.score);
    assert.deepEqual(v.reasons, row.reasons);
    assert.ok(v.comment.length > 0);
  });
}

test('policy: comment keeps capture problems and refusals apart', () => {
  const v = decide([c('a', 'fail', 2304), c('b', 'fail', 1310)], { method: 'liveness', certifiedFraudCode2399: false });
  assert.match(v.comment, /Refused: 2304/);
  assert.match(v.comment, /Capture problem: 1310/);
});

test('policy: a check that could not run is 1901 and human review, never a pass', () => {
  const broken = { ...c('device.integrity', 'inconclusive', 2402), error: 'boom' };
  const v = decide([c('a', 'pass'), broken], { method: 'liveness', certifiedFraudCode2399: false });
  assert.equal(v.score, -1);
  assert.deepEqual(v.reasons, [1901]);
  assert.match(v.comment, /could not run device\.integrity/);
});

test('policy: a check that could not run never turns a refusal into a review', () => {
  const broken = { ...c('device.integrity', 'inconclusive', 2402), error: 'boom' };
  const v = decide([c('face.match_document', 'fail', 2304), broken], {
    method: 'liveness',
    certifiedFraudCode2399: false,
  });
  assert.equal(v.score, 0);
  assert.deepEqual(v.reasons, [2304]);
});

test('policy: every catalogue code has a message', () => {
  for (const code of [
    1201, 1301, 1302, 1303, 1304, 1305, 1310, 1311, 1312, 1313, 1320, 1901, 1911, 2101, 2102, 2103, 2201, 2202, 2301,
    2302, 2303, 2304, 2305, 2306, 2307, 2399, 2401, 2402, 2403,
  ])
    assert.ok(REASON_MESSAGES[code], String(code));
});
