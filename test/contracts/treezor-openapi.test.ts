/**
 * Our API against Treezor's official OpenAPI (shared/reference/treezor-openapi-subset.yaml):
 * every shared operation exists with the same scopes, and the responses of a real flow validate
 * against the official response schemas.
 *
 * Two documented deviations are applied while validating, both following Treezor's real payloads
 * over the spec's declarations: numbers travel as strings (ajv coerceTypes), and dates use
 * Treezor's "YYYY-MM-DD HH:mm:ss" (the spec says date-time).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { openPgliteThread } from '../../src/storage/db/pglite-thread.ts';
import { startTestServer, call, type TestServer } from '../helpers/runtime.ts';

const SPEC_PATH = new URL('../../../shared/reference/treezor-openapi-subset.yaml', import.meta.url);
const skip = !existsSync(SPEC_PATH) && 'shared/reference/treezor-openapi-subset.yaml is absent';

// The operations kyclive implements from the official spec.
const SHARED: [string, string][] = [
  ['post', '/oauth/token'],
  ['post', '/v1/users'],
  ['get', '/v1/users/{userId}'],
  ['put', '/v1/users/{userId}'],
  ['put', '/v1/users/{userId}/Kycreview'],
  ['post', '/v1/users/{userId}/kycliveness'],
  ['put', '/v1/users/{userId}/kycliveness'],
  ['get', '/v1/documents'],
  ['get', '/v1/documents/{documentId}'],
  ['get', '/v1/documents/{documentId}/download'],
  ['post', '/simulation/payin-sct'],
];

let s: TestServer;
let spec: any;
let ajv: Ajv;
before(async () => {
  if (skip) return;
  spec = parse(readFileSync(SPEC_PATH, 'utf8'));
  ajv = new Ajv({ strict: false, coerceTypes: true, allErrors: true });
  // ajv-formats is CommonJS: its default export arrives wrapped under NodeNext resolution.
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
    a: Ajv,
  ) => void;
  addFormats(ajv);
  ajv.addFormat('date-time', { validate: (v: string) => /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d/.test(v) });
  ajv.addFormat('date', { validate: (v: string) => /^\d{4}-\d\d-\d\d$/.test(v) });
  ajv.addSchema(spec, 'treezor.json');
  s = await startTestServer(await openPgliteThread());
});
after(async () => {
  await s?.close();
});

const pointer = (p: string) => p.replace(/~/g, '~0').replace(/\//g, '~1');

function assertMatchesSpec(method: string, path: string, status: number, body: unknown) {
  const resp = spec.paths[path][method].responses[String(status)];
  assert.ok(resp, `official spec has no ${status} response for ${method.toUpperCase()} ${path}`);
  const mediaType = Object.keys(resp.content ?? {})[0];
  if (!mediaType) return;
  const validate = ajv.compile({
    $ref: `treezor.json#/paths/${pointer(path)}/${method}/responses/${status}/content/${pointer(mediaType)}/schema`,
  });
  const copy = JSON.parse(JSON.stringify(body));
  assert.ok(validate(copy), `${method.toUpperCase()} ${path} ${status}: ${ajv.errorsText(validate.errors)}`);
}

test('every shared operation is served, with the scopes the official spec lists', { skip }, async () => {
  const ours = (await call(s.baseUrl, 'GET', '/openapi.json')).json;
  assert.equal(ours.openapi, '3.1.0');
  for (const [method, path] of SHARED) {
    const official = spec.paths[path]?.[method];
    assert.ok(official, `${method} ${path} in the official spec`);
    const mine = ours.paths[path]?.[method];
    assert.ok(mine, `${method.toUpperCase()} ${path} missing from /openapi.json`);
    const officialScopes = (official.security ?? [])
      .flatMap((x: Record<string, string[]>) => Object.values(x).flat())
      .sort();
    const myScopes = (mine.security ?? []).flatMap((x: Record<string, string[]>) => Object.values(x).flat()).sort();
    assert.deepEqual(myScopes, officialScopes, `scopes of ${method.toUpperCase()} ${path}`);
  }
});

test('responses of a real flow validate against the official response schemas', { skip }, async () => {
  const c = await s.newClient();
  const tokenResp = await call(s.baseUrl, 'POST', '/oauth/token', {
    body: { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret },
  });
  // The official postAuth_200_response is a oneOf that lists postAuth_200_response_oneOf_1 twice,
  // so no body can match exactly one branch; validate against the client_credentials branch.
  const v = ajv.compile({ $ref: 'treezor.json#/components/schemas/postAuth_200_response_oneOf' });
  assert.ok(v(JSON.parse(JSON.stringify(tokenResp.json))), ajv.errorsText(v.errors));
  const token = tokenResp.json.access_token;
  const created = await call(s.baseUrl, 'POST', '/v1/users', {
    token,
    body: {
      userTypeId: 1,
      specifiedUSPerson: 0,
      email: 'c@example.com',
      title: 'MME',
      firstname: 'Chloé',
      lastname: 'Rivière',
      birthday: '1992-05-17',
      country: 'FR',
      nationality: 'FR',
    },
  });
  assertMatchesSpec('post', '/v1/users', 200, created.json);
  const id = created.json.users[0].userId;
  assertMatchesSpec(
    'get',
    '/v1/users/{userId}',
    200,
    (await call(s.baseUrl, 'GET', `/v1/users/${id}`, { token })).json,
  );
  assertMatchesSpec(
    'put',
    '/v1/users/{userId}',
    200,
    (await call(s.baseUrl, 'PUT', `/v1/users/${id}`, { token, body: { city: 'Lyon' } })).json,
  );
  const live = await call(s.baseUrl, 'POST', `/v1/users/${id}/kycliveness`, {
    token,
    body: { redirectUrl: 'https://integrator.example/done' },
  });
  assert.equal(live.status, 201);
  assertMatchesSpec('post', '/v1/users/{userId}/kycliveness', 201, live.json);
  await call(s.baseUrl, 'POST', `/simulation/kycliveness/${live.json.user_kyc[0]['identification-id']}`, {
    token,
    body: { outcome: 'processed', score: 1 },
  });
  await s.settle();
  const imported = await call(s.baseUrl, 'PUT', `/v1/users/${id}/kycliveness`, { token });
  assertMatchesSpec('put', '/v1/users/{userId}/kycliveness', 200, imported.json);
  const docs = await call(s.baseUrl, 'GET', `/v1/documents?userId=${id}`, { token });
  assertMatchesSpec('get', '/v1/documents', 200, docs.json);
  const docId = docs.json.documents[0].documentId;
  assertMatchesSpec(
    'get',
    '/v1/documents/{documentId}',
    200,
    (await call(s.baseUrl, 'GET', `/v1/documents/${docId}`, { token })).json,
  );
  assertMatchesSpec(
    'get',
    '/v1/documents/{documentId}/download',
    200,
    (await call(s.baseUrl, 'GET', `/v1/documents/${docId}/download`, { token })).json,
  );
  assertMatchesSpec(
    'put',
    '/v1/users/{userId}/Kycreview',
    200,
    (await call(s.baseUrl, 'PUT', `/v1/users/${id}/Kycreview`, { token })).json,
  );
  const payin = await call(s.baseUrl, 'POST', '/simulation/payin-sct', {
    token,
    body: { iban: 'FR7630006000011234567890189', amount: 20 },
  });
  assert.equal(payin.status, 200, payin.text);
  assertMatchesSpec('post', '/simulation/payin-sct', 200, payin.json);
});

test('the request bodies Treezor documents are accepted', { skip }, async () => {
  const c = await s.newClient();
  const token = await s.token(c);
  // The official create schema's full attribute list is accepted (legal entity attributes included).
  const props = spec.components.schemas.postUsers_request.properties as Record<string, any>;
  const sample: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    if (['parentUserId', 'parentType', 'accessTag', 'webauthn', 'passcode'].includes(k)) continue;
    if (v.enum) sample[k] = v.enum[0];
    else if (v.type === 'integer') sample[k] = 1;
    else if (v.format === 'date') sample[k] = '2020-01-01';
    else if (/^ISO\s+3166/.test(String(v.format ?? ''))) sample[k] = 'FR';
    else if (k === 'email') sample[k] = 'all@example.com';
    else if (k === 'birthday') sample[k] = '1980-01-01';
    else sample[k] = 'x';
  }
  sample.effectiveBeneficiary = 25;
  const r = await call(s.baseUrl, 'POST', '/v1/users', { token, body: sample });
  assert.equal(r.status, 200, r.text);
});
