import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomTokens } from './secrets.ts';

test('randomTokens: n distinct base64url tokens of the asked size from one draw', () => {
  const t = randomTokens(50, 32);
  assert.equal(t.length, 50);
  assert.equal(new Set(t).size, 50);
  for (const x of t) {
    assert.match(x, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(x, 'base64url').length, 32);
  }
  assert.deepEqual(randomTokens(0), []);
});
