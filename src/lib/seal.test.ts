import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { seal, unseal } from './seal.ts';

test('a sealed value opens with its key and purpose only, and any changed byte is refused', () => {
  const key = randomBytes(32);
  const s = seal(key, 'face', Buffer.from('[0.1,0.2]'));
  assert.equal(unseal(key, 'face', s)?.toString(), '[0.1,0.2]');
  assert.equal(unseal(key, 'totp', s), null);
  assert.equal(unseal(randomBytes(32), 'face', s), null);
  const raw = Buffer.from(s.slice(3), 'base64url');
  raw[raw.length - 1] ^= 1;
  assert.equal(unseal(key, 'face', `v1.${raw.toString('base64url')}`), null);
  assert.notEqual(seal(key, 'face', Buffer.from('x')), seal(key, 'face', Buffer.from('x')), 'a fresh nonce each time');
});
