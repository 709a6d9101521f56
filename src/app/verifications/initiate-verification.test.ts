import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateRedirectUrl } from './initiate-verification.ts';

test('redirect URLs: the normal form of the accepted ones, a clear refusal of the others', () => {
  assert.equal(validateRedirectUrl('HTTPS://Integrator.example/done?a=1 2'), 'https://integrator.example/done?a=1%202');
  assert.equal(validateRedirectUrl('http://localhost:3000/back'), 'http://localhost:3000/back');
  for (const bad of [
    'http://evil.example.com/',
    'javascript:alert(1)',
    'not a url',
    'https://user:pw@example.com/',
    42,
    'x'.repeat(2001),
  ]) {
    assert.throws(() => validateRedirectUrl(bad), /redirectUrl must/);
  }
  assert.throws(
    () => validateRedirectUrl('ftp://example.com/', 'defaultRedirectUrl'),
    /defaultRedirectUrl must use https/,
  );
});
