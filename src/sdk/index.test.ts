import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildWebhookBody, signatureHeader } from '../webhooks/signing.ts';
import { generateTestHeader, KycliveApiError, KycliveClient, verifyWebhook, WebhookSignatureError } from './index.ts';

// A canned Treezor-shaped server: enough to exercise the client, not a model of kyclive's real behaviour.
interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const calls: Call[] = [];
let tokenTtl = 3600;
let tokensIssued = 0;
const revoked = new Set<string>();
let base = '';

const USER = { userId: '100001', firstname: 'Alex', lastname: 'Oak', kycLevel: '0', kycReview: '0' };
const DOC = { documentId: '55555', userId: '100001', documentTypeId: '26', documentStatus: 'PENDING' };
const IDENT = { 'identification-id': 'idn_1', 'identification-url': 'https://kyc.example.test/c/idn_1' };

function route(c: Call): [number, unknown] {
  if (c.path === '/oauth/token') {
    const form = new URLSearchParams(c.body);
    if (form.get('client_secret') !== 'sec')
      return [401, { error: 'invalid_client', error_description: 'Client authentication failed' }];
    tokensIssued++;
    return [200, { token_type: 'Bearer', expires_in: tokenTtl, access_token: `tok-${tokensIssued}` }];
  }
  const token = c.headers.authorization?.replace(/^Bearer /, '');
  if (!token?.startsWith('tok-') || revoked.has(token))
    return [401, { errors: [{ type: 'unauthorized', code: 'unauthorized', message: 'Invalid token' }] }];
  const key = `${c.method} ${c.path}`;
  switch (key) {
    case 'POST /v1/users':
      return [201, { users: [{ ...USER, ...JSON.parse(c.body) }] }];
    case 'GET /v1/users/100001':
      return [200, { users: [USER] }];
    case 'PUT /v1/users/100001':
      return [200, { users: [{ ...USER, ...JSON.parse(c.body) }] }];
    case 'POST /v1/users/100001/kycliveness':
      return [201, { user_kyc: [IDENT], identification: IDENT, users: [IDENT] }];
    case 'POST /v1/users/100002/kycliveness':
      return [201, { identification: IDENT }];
    case 'POST /v1/users/100003/kycliveness':
      return [201, { users: [{ description: 'x', ...IDENT }] }];
    case 'POST /v1/users/100004/kycliveness':
      return [428, { error: 'firstname, lastname and birthday are required' }];
    case 'GET /v1/users/100001/kycliveness':
      return [200, { 'kyc-status': 'processing' }];
    case 'PUT /v1/users/100001/kycliveness':
      return [200, {}];
    case 'PUT /v1/users/100001/Kycreview':
      return [200, { users: [{ ...USER, kycReview: '1' }] }];
    case 'GET /v1/documents':
      return [200, { documents: [DOC] }];
    case 'GET /v1/documents/55555':
      return [200, { documents: [DOC] }];
    case 'GET /v1/documents/55555/download':
      return [200, { url: 'https://blob.example.test/55555?sig=x' }];
    case 'POST /settings/hooks':
      return [201, { uuid: 'hook-1', url: JSON.parse(c.body).url, secret: 'whsec_1' }];
    case 'POST /simulation/kycliveness/idn_1':
      return [200, { 'kyc-status': 'processed' }];
    default:
      return [
        404,
        {
          errors: [
            {
              type: 'invalid_request',
              code: 'resource_not_found_error',
              message: 'Not found',
              docUrl: 'https://docs.treezor.com/guide/api-basics/response-codes.html',
              requestId: 'req-404',
            },
          ],
        },
      ];
  }
}

const server = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => {
    body += d;
  });
  req.on('end', () => {
    const u = new URL(req.url!, 'http://x');
    const call = { method: req.method!, path: u.pathname, query: u.searchParams, headers: req.headers, body };
    calls.push(call);
    const [status, payload] = route(call);
    res
      .writeHead(status, { 'Content-Type': 'application/json', 'X-Request-Id': 'hdr-req' })
      .end(JSON.stringify(payload));
  });
});

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  calls.length = 0;
  tokenTtl = 3600;
  tokensIssued = 0;
  revoked.clear();
});

const client = (extra: Partial<ConstructorParameters<typeof KycliveClient>[0]> = {}) =>
  new KycliveClient({ baseUrl: `${base}/`, clientId: 'cid', clientSecret: 'sec', scope: 'read_write legal', ...extra });
const apiCalls = () => calls.filter((c) => c.path !== '/oauth/token');

test('fetches a client_credentials token once, form-encoded, and caches it', async () => {
  const c = client();
  await c.getUser('100001');
  await c.getUser(100001);
  const tokenCalls = calls.filter((x) => x.path === '/oauth/token');
  assert.equal(tokenCalls.length, 1);
  assert.equal(tokenCalls[0].headers['content-type'], 'application/x-www-form-urlencoded');
  assert.deepEqual(Object.fromEntries(new URLSearchParams(tokenCalls[0].body)), {
    grant_type: 'client_credentials',
    client_id: 'cid',
    client_secret: 'sec',
    scope: 'read_write legal',
  });
  assert.deepEqual(
    apiCalls().map((x) => x.headers.authorization),
    ['Bearer tok-1', 'Bearer tok-1'],
  );
});

test('refreshes a token that expires within 60 s, and shares one refresh between concurrent calls', async () => {
  tokenTtl = 60;
  const c = client();
  await Promise.all([c.getUser('100001'), c.getUser('100001'), c.getUser('100001')]);
  assert.equal(tokensIssued, 1);
  await c.getUser('100001');
  assert.equal(tokensIssued, 2);
});

test('retries once with a fresh token after a 401', async () => {
  const c = client();
  await c.getUser('100001');
  revoked.add('tok-1');
  assert.equal((await c.getUser('100001')).userId, '100001');
  assert.deepEqual(
    apiCalls().map((x) => x.headers.authorization),
    ['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2'],
  );
});

test('user methods unwrap users[0] and pass accessTag as a query parameter', async () => {
  const c = client();
  const created = await c.createUser({ firstname: 'Alex', userTypeId: 1 }, { accessTag: 'tag-1' });
  assert.equal(created.userId, '100001');
  const createCall = apiCalls()[0];
  assert.equal(createCall.method, 'POST');
  assert.equal(createCall.query.get('accessTag'), 'tag-1');
  assert.equal(createCall.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(createCall.body), { firstname: 'Alex', userTypeId: 1 });

  assert.equal((await c.updateUser('100001', { lastname: 'Elm' })).lastname, 'Elm');
  assert.equal(apiCalls()[1].method, 'PUT');
  assert.equal(apiCalls()[1].query.has('accessTag'), false);
  assert.equal((await c.requestKycReview('100001', { accessTag: 't2' })).kycReview, '1');
  assert.equal(apiCalls()[2].path, '/v1/users/100001/Kycreview');
  assert.equal(apiCalls()[2].query.get('accessTag'), 't2');
});

test('createKycliveness reads any of the three Treezor 201 shapes', async () => {
  const c = client();
  for (const id of ['100001', '100002', '100003']) {
    const r = await c.createKycliveness(id);
    assert.equal(r.identificationId, 'idn_1');
    assert.equal(r.identificationUrl, 'https://kyc.example.test/c/idn_1');
  }
  assert.equal(apiCalls()[0].body, '');
  await c.createKycliveness('100001', { redirectUrl: 'https://app.example.test/done' });
  assert.deepEqual(JSON.parse(apiCalls()[3].body), { redirectUrl: 'https://app.example.test/done' });
});

test('kycliveness, document, webhook and simulation helpers hit the right endpoints', async () => {
  const c = client({ fetch: (...args) => fetch(...args) });
  assert.deepEqual(await c.getKycliveness('100001'), { 'kyc-status': 'processing' });
  assert.deepEqual(await c.importKyclivenessDocuments('100001'), {});
  const docs = await c.listDocuments({ userId: '100001', documentTypeId: 26, pageNumber: undefined });
  assert.equal(docs[0].documentId, '55555');
  assert.equal(apiCalls()[2].query.toString(), 'userId=100001&documentTypeId=26');
  assert.equal((await c.getDocument('55555')).documentTypeId, '26');
  assert.equal(await c.getDocumentDownloadUrl('55555'), 'https://blob.example.test/55555?sig=x');
  assert.deepEqual(await c.createWebhookSubscription('https://app.example.test/hooks'), {
    uuid: 'hook-1',
    url: 'https://app.example.test/hooks',
    secret: 'whsec_1',
  });
  assert.deepEqual(await c.simulateKycliveness('idn_1', { outcome: 'approved' }), { 'kyc-status': 'processed' });
  assert.deepEqual(JSON.parse(apiCalls()[6].body), { outcome: 'approved' });
});

test('API errors become KycliveApiError with Treezor errors and request id', async () => {
  const c = client();
  await assert.rejects(c.getUser('999'), (e: unknown) => {
    assert.ok(e instanceof KycliveApiError);
    assert.equal(e.status, 404);
    assert.equal(e.errors[0].code, 'resource_not_found_error');
    assert.equal(e.requestId, 'req-404');
    assert.equal(e.message, 'Not found');
    return true;
  });
  await assert.rejects(c.createKycliveness('100004'), (e: unknown) => {
    assert.ok(e instanceof KycliveApiError);
    assert.equal(e.status, 428);
    assert.match(e.message, /firstname/);
    assert.equal(e.requestId, 'hdr-req');
    return true;
  });
  await assert.rejects(client({ clientSecret: 'wrong' }).getUser('100001'), (e: unknown) => {
    assert.ok(e instanceof KycliveApiError);
    assert.equal(e.status, 401);
    assert.equal(e.errors[0].code, 'invalid_client');
    return true;
  });
});

const SECRET = 'whsec_test';
const EVENT = {
  webhook: 'kycliveness.update',
  webhookId: '0b9a6f1e-3c55-4f0e-9d2a-4b8f1f2a9c10',
  createdAt: new Date(),
  object: 'kycliveness',
  objectId: '100001',
  payload: { user_id: '100001', 'kyc-status': 'processed', score: 1, comment: 'vérifiée', reasons: [] },
};

test('verifyWebhook round-trips buildWebhookBody + signatureHeader and returns the envelope', () => {
  const body = buildWebhookBody(EVENT, SECRET);
  const header = signatureHeader(body, [SECRET], Math.floor(Date.now() / 1000));
  const envelope = verifyWebhook(body, { 'kyclive-signature': header }, SECRET);
  assert.equal(envelope.webhook, 'kycliveness.update');
  assert.deepEqual(envelope.object_payload, EVENT.payload);
  assert.equal(verifyWebhook(Buffer.from(body), { 'Kyclive-Signature': [header] }, SECRET).object_id, '100001');
});

test('verifyWebhook accepts any of several secrets while rotating', () => {
  const body = buildWebhookBody(EVENT, 'old');
  const header = signatureHeader(body, ['new', 'old'], Math.floor(Date.now() / 1000));
  assert.equal(verifyWebhook(body, { 'kyclive-signature': header }, ['new', 'old']).object_id, '100001');
});

test('verifyWebhook rejects a missing header, a stale timestamp, a parsed body and a bad payload signature', () => {
  const body = buildWebhookBody(EVENT, SECRET);
  const reason = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof WebhookSignatureError);
      return e.reason;
    }
    assert.fail('did not throw');
  };
  assert.equal(
    reason(() => verifyWebhook(body, {}, SECRET)),
    'missing_header',
  );
  const old = generateTestHeader(body, SECRET, Math.floor(Date.now() / 1000) - 3600);
  assert.equal(
    reason(() => verifyWebhook(body, { 'kyclive-signature': old }, SECRET)),
    'timestamp_outside_tolerance',
  );
  assert.equal(
    verifyWebhook(body, { 'kyclive-signature': old }, SECRET, { toleranceSeconds: 7200 }).object_id,
    '100001',
  );
  assert.equal(
    reason(() => verifyWebhook(JSON.parse(body), { 'kyclive-signature': generateTestHeader(body, SECRET) }, SECRET)),
    'payload_not_raw',
  );

  // A body whose header is valid but whose object_payload_signature was made with another secret.
  const forged = buildWebhookBody(EVENT, 'someone-else');
  assert.equal(
    reason(() => verifyWebhook(forged, { 'kyclive-signature': generateTestHeader(forged, SECRET) }, SECRET)),
    'no_match',
  );
  assert.equal(
    reason(() => verifyWebhook(body, { 'kyclive-signature': generateTestHeader(body, 'x') }, SECRET)),
    'no_match',
  );
});

test('the SDK imports only node built-ins, itself and the two signing modules, so it can ship alone', async () => {
  const { readFile, readdir } = await import('node:fs/promises');
  const sdkDir = new URL('./', import.meta.url);
  const files = [
    ...(await readdir(sdkDir))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => new URL(f, sdkDir)),
    new URL('../webhooks/signing.ts', import.meta.url),
    new URL('../webhooks/php-json.ts', import.meta.url),
  ];
  const allowed = new Set(['../webhooks/signing.ts', './php-json.ts']);
  for (const file of files) {
    const source = await readFile(file, 'utf8');
    for (const [, spec] of source.matchAll(/\bfrom\s+'([^']+)'/g)) {
      assert.ok(
        spec.startsWith('node:') || allowed.has(spec) || (spec.startsWith('./') && file.pathname.includes('/sdk/')),
        `${file.pathname} imports ${spec}`,
      );
    }
  }
});
