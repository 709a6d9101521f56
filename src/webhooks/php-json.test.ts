import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { phpJsonEncode } from './php-json.ts';

// Contract §5.2 test vector.
const VECTOR_PAYLOAD = {
  user_id: '100001',
  'kyc-status': 'processed',
  score: 1,
  comment: 'Identité vérifiée',
  identity: { 'first-name': 'Hélène', 'last-name': 'Oak', 'birth-date': '1990-10-29' },
  url: 'https://example.test/a/b',
};
const VECTOR_CANONICAL =
  '{"user_id":"100001","kyc-status":"processed","score":1,"comment":"Identit\\u00e9 v\\u00e9rifi\\u00e9e","identity":{"first-name":"H\\u00e9l\\u00e8ne","last-name":"Oak","birth-date":"1990-10-29"},"url":"https:\\/\\/example.test\\/a\\/b"}';

test('matches the contract test vector byte for byte', () => {
  assert.equal(phpJsonEncode(VECTOR_PAYLOAD), VECTOR_CANONICAL);
  const sig = createHmac('sha256', 'test_webhook_secret').update(VECTOR_CANONICAL).digest('base64');
  assert.equal(sig, '7PlHF0eppNwbEvWjCTVx1wecv1ZKjle2bVff1T3sbUA=');
});

test('escapes astral characters as a lowercase surrogate pair, like PHP', () => {
  assert.equal(phpJsonEncode('ok 😀'), '"ok \\ud83d\\ude00"');
});

test('escapes control characters with PHP short forms and lowercase \\u00XX otherwise', () => {
  assert.equal(phpJsonEncode('\b\f\n\r\t\u0000\u001f\u007f'), '"\\b\\f\\n\\r\\t\\u0000\\u001f\u007f"');
});

test('escapes quotes, backslashes and slashes', () => {
  assert.equal(phpJsonEncode('a"b\\c/d'), '"a\\"b\\\\c\\/d"');
});

test('is compact, keeps key order, drops undefined members and nulls them in arrays', () => {
  assert.equal(
    phpJsonEncode({ b: 1, a: [1, undefined, null], c: undefined, d: { é: true } }),
    '{"b":1,"a":[1,null,null],"d":{"\\u00e9":true}}',
  );
  assert.equal(phpJsonEncode({}), '{}');
  assert.equal(phpJsonEncode([]), '[]');
});

test('prints numbers as JS does', () => {
  assert.equal(phpJsonEncode([0, -1, 1.5, 1e21, 0.1]), '[0,-1,1.5,1e+21,0.1]');
});

test('output parses back to the same value', () => {
  const value = { s: 'ü/😀\n"', n: [1, 2.5, null, true], o: { x: '' } };
  assert.deepEqual(JSON.parse(phpJsonEncode(value)), value);
});

test('uses toJSON (dates) and rejects what has no JSON form', () => {
  assert.equal(phpJsonEncode({ at: new Date(Date.UTC(2024, 0, 8)) }), '{"at":"2024-01-08T00:00:00.000Z"}');
  assert.throws(() => phpJsonEncode(Number.NaN), TypeError);
  assert.throws(() => phpJsonEncode(1n), TypeError);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => phpJsonEncode(cyclic), /circular/);
  assert.throws(() => phpJsonEncode(undefined), TypeError);
});
