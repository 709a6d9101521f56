import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { randomToken, sha256Hex } from './secrets.ts';

test('randomToken: distinct base64url tokens of the asked size', () => {
  const t = Array.from({ length: 200 }, () => randomToken(32));
  assert.equal(new Set(t).size, 200);
  for (const x of t) {
    assert.match(x, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(x, 'base64url').length, 32);
  }
  assert.equal(Buffer.from(randomToken(17), 'base64url').length, 17);
});

test('sha256Hex: the standard digest of text and of bytes', () => {
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256Hex(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  // UTF-8, as createHash().update(string) hashes it
  assert.equal(sha256Hex('é'), createHash('sha256').update(Buffer.from('é', 'utf8')).digest('hex'));
});
