import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { randomToken, randomTokens, sha256Hex } from './secrets.ts';

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

test('randomTokens: distinct across pool refills and sizes, larger than the pool too', () => {
  // 4 kB pool: 300 tokens of 32 bytes cross two refills; odd sizes leave tails that must not be reused
  const all = [
    ...randomTokens(300, 32),
    ...randomTokens(7, 24),
    ...Array.from({ length: 200 }, () => randomToken(17)),
    ...randomTokens(2, 5000),
  ];
  assert.equal(new Set(all).size, all.length);
  for (const x of all.slice(300, 307)) assert.equal(Buffer.from(x, 'base64url').length, 24);
  for (const x of all.slice(307, 507)) assert.equal(Buffer.from(x, 'base64url').length, 17);
  for (const x of all.slice(507)) assert.equal(Buffer.from(x, 'base64url').length, 5000);
  // no token is all zeros (a zeroed pool slice handed out again would be)
  for (const x of all) assert.ok(Buffer.from(x, 'base64url').some((b) => b !== 0));
});

test('sha256Hex: the standard digest of text and of bytes', () => {
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256Hex(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  // UTF-8, as createHash().update(string) hashes it
  assert.equal(sha256Hex('é'), createHash('sha256').update(Buffer.from('é', 'utf8')).digest('hex'));
});
