import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRedirectUrl } from './initiate-verification.ts';

test('redirect URLs: the normal form every time, refusals every time, past the memo bound', () => {
  for (let round = 0; round < 2; round++) {
    assert.equal(
      validateRedirectUrl('HTTPS://Integrator.example/done?a=1 2'),
      'https://integrator.example/done?a=1%202',
    );
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
  }
  for (let i = 0; i < 600; i++)
    assert.equal(validateRedirectUrl(`https://integrator.example/${i}`), `https://integrator.example/${i}`);
  assert.equal(validateRedirectUrl('HTTPS://Integrator.example/done?a=1 2'), 'https://integrator.example/done?a=1%202');
});
