import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  buildWebhookBody,
  generateTestHeader,
  signatureHeader,
  signTreezorPayload,
  verifySignatureHeader,
  verifyTreezorSignature,
  WebhookSignatureError,
  type WebhookSignatureErrorReason,
} from './signing.ts';

const SECRET = 'test_webhook_secret';
const VECTOR_PAYLOAD = {
  user_id: '100001',
  'kyc-status': 'processed',
  score: 1,
  comment: 'Identité vérifiée',
  identity: { 'first-name': 'Hélène', 'last-name': 'Oak', 'birth-date': '1990-10-29' },
  url: 'https://example.test/a/b',
};
const EVENT = {
  webhook: 'kycliveness.update',
  webhookId: '0b9a6f1e-3c55-4f0e-9d2a-4b8f1f2a9c10',
  createdAt: new Date(1704987654321),
  object: 'kycliveness',
  objectId: '100001',
  payload: VECTOR_PAYLOAD,
};
const T = 1_704_987_654;

function rejects(reason: WebhookSignatureErrorReason, fn: () => void, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof WebhookSignatureError);
    assert.equal(e.reason, reason);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test('signTreezorPayload gives the contract test-vector signature', () => {
  assert.equal(signTreezorPayload(VECTOR_PAYLOAD, SECRET), '7PlHF0eppNwbEvWjCTVx1wecv1ZKjle2bVff1T3sbUA=');
});

test('buildWebhookBody writes the signed canonical text verbatim into valid JSON', () => {
  const body = buildWebhookBody(EVENT, SECRET);
  const parsed = JSON.parse(body);
  assert.deepEqual(Object.keys(parsed), [
    'webhook',
    'webhook_id',
    'webhook_created_at',
    'object',
    'object_id',
    'object_payload',
    'object_payload_signature',
  ]);
  assert.equal(parsed.webhook_created_at, '17049876543210');
  assert.deepEqual(parsed.object_payload, VECTOR_PAYLOAD);
  assert.equal(parsed.object_payload_signature, '7PlHF0eppNwbEvWjCTVx1wecv1ZKjle2bVff1T3sbUA=');
  assert.ok(
    body.includes('"object_payload":{"user_id":"100001","kyc-status":"processed","score":1,"comment":"Identit\\u00e9'),
  );
  assert.match(body, /^[\x20-\x7e]+$/, 'body is pure ASCII');
});

test('verifyTreezorSignature accepts both raw-byte and re-serialising interpretations', () => {
  const body = buildWebhookBody(EVENT, SECRET);
  const res = verifyTreezorSignature(body, SECRET);
  assert.equal(res.ok, true);
  assert.equal(res.envelope?.object_id, '100001');
  assert.equal(verifyTreezorSignature(Buffer.from(body), SECRET).ok, true);

  // A sender that pretty-prints: only the re-serialised form matches.
  const pretty = JSON.stringify(JSON.parse(body), null, 2);
  assert.equal(verifyTreezorSignature(pretty, SECRET).ok, true);

  // A sender whose canonical text differs from ours (unescaped slashes): only the raw bytes match.
  const raw = '{"a":"x/y","b":[1,{"c":"]}"}]}';
  const sig = createHmac('sha256', SECRET).update(raw).digest('base64');
  const foreign = `{ "webhook": "x", "object_payload" : ${raw} , "object_payload_signature": "${sig}" }`;
  assert.equal(verifyTreezorSignature(foreign, SECRET).ok, true);
});

test('verifyTreezorSignature rejects a tampered payload, a wrong secret and non-JSON', () => {
  const body = buildWebhookBody(EVENT, SECRET);
  assert.equal(verifyTreezorSignature(body.replace('"score":1', '"score":0'), SECRET).ok, false);
  assert.equal(verifyTreezorSignature(body, 'other').ok, false);
  assert.deepEqual(verifyTreezorSignature('not json', SECRET), { ok: false, envelope: null });
  assert.equal(verifyTreezorSignature('{"object_payload":{}}', SECRET).ok, false);
});

test('signatureHeader carries one v1 per secret, each verifiable on its own', () => {
  const body = '{"a":1}';
  const header = signatureHeader(body, ['new', 'old'], T);
  assert.match(header, /^t=1704987654,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
  const expected = createHmac('sha256', 'old').update(`${T}.${body}`).digest('hex');
  assert.ok(header.endsWith(`v1=${expected}`));
  verifySignatureHeader(body, header, 'new', { now: T });
  verifySignatureHeader(Buffer.from(body), header, 'old', { now: T + 299 });
});

test('generateTestHeader produces a header that verifies', () => {
  verifySignatureHeader('{}', generateTestHeader('{}', SECRET), SECRET);
  verifySignatureHeader('{}', generateTestHeader('{}', SECRET, T), SECRET, { now: T });
});

test('rejects: missing_header', () => {
  rejects('missing_header', () => verifySignatureHeader('{}', undefined, SECRET));
  rejects('missing_header', () => verifySignatureHeader('{}', ' ', SECRET));
});

test('rejects: bad_format', () => {
  rejects('bad_format', () => verifySignatureHeader('{}', 'garbage', SECRET, { now: T }));
  rejects('bad_format', () => verifySignatureHeader('{}', `t=${T}`, SECRET, { now: T }));
  rejects('bad_format', () => verifySignatureHeader('{}', 't=soon,v1=abcd', SECRET, { now: T }));
  rejects('bad_format', () => verifySignatureHeader('{}', 'v0=abcd,v1=abcd', SECRET, { now: T }));
});

test('rejects: no_match (altered body, wrong secret, secret with whitespace, malformed v1)', () => {
  const header = generateTestHeader('{"a":1}', SECRET, T);
  rejects('no_match', () => verifySignatureHeader('{"a":2}', header, SECRET, { now: T }), /raw request body/);
  rejects('no_match', () => verifySignatureHeader('{"a":1}', header, 'other', { now: T }));
  rejects('no_match', () => verifySignatureHeader('{"a":1}', header, `${SECRET}\n`, { now: T }), /whitespace/);
  rejects('no_match', () => verifySignatureHeader('{"a":1}', `t=${T},v1=zz`, SECRET, { now: T }));
});

test('rejects: timestamp_outside_tolerance, in the past and in the future', () => {
  const header = generateTestHeader('{}', SECRET, T);
  rejects('timestamp_outside_tolerance', () => verifySignatureHeader('{}', header, SECRET, { now: T + 301 }));
  rejects('timestamp_outside_tolerance', () => verifySignatureHeader('{}', header, SECRET, { now: T - 301 }));
  rejects('timestamp_outside_tolerance', () =>
    verifySignatureHeader('{}', header, SECRET, { now: T + 11, toleranceSeconds: 10 }),
  );
});

test('rejects: payload_not_raw when given a parsed object', () => {
  const header = generateTestHeader('{}', SECRET, T);
  rejects(
    'payload_not_raw',
    () => verifySignatureHeader({} as unknown as string, header, SECRET, { now: T }),
    /raw request body/,
  );
});

test('a tolerance of 0 or less is refused rather than meaning "off"', () => {
  const header = generateTestHeader('{}', SECRET, T);
  assert.throws(() => verifySignatureHeader('{}', header, SECRET, { now: T, toleranceSeconds: 0 }), RangeError);
  assert.throws(() => verifySignatureHeader('{}', header, SECRET, { now: T, toleranceSeconds: -5 }), RangeError);
  assert.throws(() => verifySignatureHeader('{}', header, SECRET, { now: T, toleranceSeconds: Infinity }), RangeError);
});
