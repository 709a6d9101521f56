/**
 * Every bad input gets a clear error in Treezor's format and changes nothing. One real server
 * (PGlite) for the file; each test makes its own tenant.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { openPgliteThread } from '../src/storage/db/pglite-thread.ts';
import { rotateClientSecret } from '../src/app/clients/rotate-client-secret.ts';
import { startTestServer, call, type TestServer } from './helpers/runtime.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer(await openPgliteThread());
});
after(async () => {
  await s.close();
});

function assertTreezorError(r: { status: number; json: any; headers: Headers }, status: number, code?: string) {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.ok(Array.isArray(r.json?.errors) && r.json.errors.length === 1, 'errors array');
  const e = r.json.errors[0];
  for (const k of ['type', 'code', 'message', 'docUrl', 'requestId'])
    assert.equal(typeof e[k], 'string', `errors[0].${k}`);
  assert.equal(e.requestId, r.headers.get('x-request-id'));
  if (code) assert.equal(e.code, code);
  return e;
}

async function count(table: string): Promise<number> {
  const r = await s.runtime.deps.db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
  return r.rows[0].n;
}

async function tenant() {
  const c = await s.newClient();
  return { ...c, token: await s.token(c) };
}

const VALID_USER = {
  userTypeId: 1,
  specifiedUSPerson: 0,
  email: 'a@example.com',
  firstname: 'Ada',
  lastname: 'Lovelace',
  birthday: '1990-12-10',
};

describe('authentication and scopes', () => {
  test('no token, malformed header, forged and expired tokens answer 401', async () => {
    assertTreezorError(await call(s.baseUrl, 'GET', '/v1/users/100001'), 401, 'invalid_token');
    assertTreezorError(
      await call(s.baseUrl, 'GET', '/v1/users/100001', { headers: { authorization: 'Token abc' } }),
      401,
    );
    const t = await tenant();
    const forged = t.token.slice(0, -3) + (t.token.endsWith('AAA') ? 'BBB' : 'AAA');
    assertTreezorError(await call(s.baseUrl, 'GET', '/v1/users/100001', { token: forged }), 401);
    // used once while valid (verified tokens are remembered), then past its expiry
    assert.equal((await call(s.baseUrl, 'GET', '/v1/documents', { token: t.token })).status, 200);
    s.clock.advance(3601_000);
    try {
      assertTreezorError(await call(s.baseUrl, 'GET', '/v1/users/100001', { token: t.token }), 401);
    } finally {
      s.clock.advance(-3601_000);
    }
  });

  test('token endpoint: wrong secret, unknown client, bad grant, and every credential transport', async () => {
    const c = await s.newClient(['read_only', 'read_write']);
    const bad = await call(s.baseUrl, 'POST', '/oauth/token', {
      raw: `grant_type=client_credentials&client_id=${c.clientId}&client_secret=nope`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const e = assertTreezorError(bad, 401, 'invalid_client');
    assert.equal(bad.json.error, 'invalid_client');
    assert.equal(e.message, 'Invalid client credentials.');
    const unknown = await call(s.baseUrl, 'POST', '/oauth/token', {
      body: { grant_type: 'client_credentials', client_id: 'kcl_nobody', client_secret: 'x' },
    });
    assert.equal(unknown.json.errors[0].message, e.message, 'unknown client and bad secret are indistinguishable');
    assertTreezorError(
      await call(s.baseUrl, 'POST', '/oauth/token', {
        body: { grant_type: 'password', client_id: c.clientId, client_secret: c.clientSecret },
      }),
      400,
    );
    // JSON, Basic and multipart all work.
    const json = await call(s.baseUrl, 'POST', '/oauth/token', {
      body: { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret },
    });
    assert.equal(json.status, 200);
    assert.equal(json.json.token_type, 'Bearer');
    assert.equal(json.json.expires_in, 3600);
    const basic = await call(s.baseUrl, 'POST', '/oauth/token', {
      raw: 'grant_type=client_credentials',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`,
      },
    });
    assert.equal(basic.status, 200);
    const fd = new FormData();
    fd.set('grant_type', 'client_credentials');
    fd.set('client_id', c.clientId);
    fd.set('client_secret', c.clientSecret);
    fd.set('scope', 'read_only admin');
    const mp = await fetch(`${s.baseUrl}/oauth/token`, { method: 'POST', body: fd });
    assert.equal(mp.status, 200);
    // Intersection of asked and granted: admin is not granted.
    assert.equal(((await mp.json()) as any).scope, 'read_only');
    assertTreezorError(
      await call(s.baseUrl, 'POST', '/oauth/token', {
        body: {
          grant_type: 'client_credentials',
          client_id: c.clientId,
          client_secret: c.clientSecret,
          scope: 'admin',
        },
      }),
      403,
    );
  });

  test("multipart/form-data is the token endpoint's only: elsewhere 415, and nothing is created", async () => {
    const c = await s.newClient(['read_only', 'read_write', 'admin', 'legal']);
    const token = await s.token(c);
    const before = await count('users');
    const fd = new FormData();
    for (const [k, v] of Object.entries(VALID_USER)) fd.set(k, String(v));
    const r = await fetch(`${s.baseUrl}/v1/users`, {
      method: 'POST',
      body: fd,
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await r.json()) as any;
    assert.equal(r.status, 415);
    assert.equal(body.errors[0].code, 'unsupported_media_type');
    assert.match(body.errors[0].message, /POST \/oauth\/token only/);
    assert.equal(await count('users'), before);
  });

  test('a token without the route scope gets 403 and nothing happens', async () => {
    const c = await s.newClient(['read_only', 'read_write', 'admin', 'legal']);
    const full = await s.token(c);
    const user = (await call(s.baseUrl, 'POST', '/v1/users', { token: full, body: VALID_USER })).json.users[0];
    const ro = await s.token(c, 'read_only');
    const before = await count('verifications');
    assertTreezorError(
      await call(s.baseUrl, 'POST', `/v1/users/${user.userId}/kycliveness`, { token: ro }),
      403,
      'insufficient_scope',
    );
    assertTreezorError(
      await call(s.baseUrl, 'POST', '/v1/users', { token: await s.token(c, 'read_write'), body: VALID_USER }),
      403,
    );
    assertTreezorError(
      await call(s.baseUrl, 'POST', '/settings/hooks', { token: ro, body: { url: 'https://example.com/h' } }),
      403,
    );
    assert.equal(await count('verifications'), before);
    assert.equal((await call(s.baseUrl, 'GET', `/v1/users/${user.userId}`, { token: ro })).status, 200);
  });

  test('a rotated secret invalidates the tokens issued under the old one', async () => {
    const c = await tenant();
    assert.equal((await call(s.baseUrl, 'GET', '/v1/documents', { token: c.token })).status, 200);
    const rotated = await rotateClientSecret(s.runtime.deps.db, c.clientId);
    s.clock.advance(6000); // past the per-process client-state cache
    assertTreezorError(await call(s.baseUrl, 'GET', '/v1/documents', { token: c.token }), 401);
    assert.equal(
      (
        await call(s.baseUrl, 'GET', '/v1/documents', {
          token: await s.token({ clientId: c.clientId, clientSecret: rotated.clientSecret }),
        })
      ).status,
      200,
    );
  });
});

describe('users', () => {
  test('invalid JSON, wrong types, unknown and read-only attributes, missing required fields: 400 naming the field, no user created', async () => {
    const t = await tenant();
    const before = await count('users');
    assertTreezorError(
      await call(s.baseUrl, 'POST', '/v1/users', {
        token: t.token,
        raw: '{"email": ',
        headers: { 'content-type': 'application/json' },
      }),
      400,
    );
    const cases: [unknown, string][] = [
      [{ ...VALID_USER, userTypeId: 'abc' }, 'userTypeId'],
      [{ ...VALID_USER, userTypeId: 9 }, 'userTypeId'],
      [{ ...VALID_USER, birthday: '1990-02-30' }, 'birthday'],
      [{ ...VALID_USER, email: 'not-an-email' }, 'email'],
      [{ ...VALID_USER, title: 'DR' }, 'title'],
      [{ ...VALID_USER, nationality: 'France' }, 'nationality'],
      [{ ...VALID_USER, firstname: 42 }, 'firstname'],
      [{ ...VALID_USER, kycLevel: 2 }, 'kycLevel'],
      [{ ...VALID_USER, favouriteColour: 'blue' }, 'favouriteColour'],
      [{ specifiedUSPerson: 0, email: 'a@b.co' }, 'userTypeId'],
      [[1, 2], ''],
    ];
    for (const [body, param] of cases) {
      const e = assertTreezorError(await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body }), 400);
      if (param) assert.equal(e.param, param, JSON.stringify(body));
    }
    assert.equal(await count('users'), before);
  });

  test('numbers are accepted as strings or integers and returned as strings', async () => {
    const t = await tenant();
    const r = await call(s.baseUrl, 'POST', '/v1/users', {
      token: t.token,
      body: { ...VALID_USER, userTypeId: '1', specifiedUSPerson: '0' },
    });
    assert.equal(r.status, 200);
    const u = r.json.users[0];
    assert.equal(u.userTypeId, '1');
    assert.equal(u.specifiedUSPerson, '0');
    assert.equal(u.kycLevel, '0');
    assert.equal(u.kycReview, '0');
    assert.match(u.createdDate, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  test("another tenant's user is not found, whatever the route", async () => {
    const a = await tenant();
    const b = await tenant();
    const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: a.token, body: VALID_USER })).json.users[0];
    const before = await count('verifications');
    for (const [m, p] of [
      ['GET', `/v1/users/${u.userId}`],
      ['PUT', `/v1/users/${u.userId}`],
      ['POST', `/v1/users/${u.userId}/kycliveness`],
      ['GET', `/v1/users/${u.userId}/kycliveness`],
      ['PUT', `/v1/users/${u.userId}/kycliveness`],
      ['PUT', `/v1/users/${u.userId}/Kycreview`],
    ] as const) {
      assertTreezorError(
        await call(s.baseUrl, m, p, {
          token: b.token,
          body: m === 'PUT' && p.endsWith(u.userId) ? { firstname: 'X' } : undefined,
        }),
        404,
        'resource_not_found_error',
      );
    }
    assert.equal(await count('verifications'), before);
    assert.equal(
      (await call(s.baseUrl, 'GET', `/v1/users/${u.userId}`, { token: a.token })).json.users[0].firstname,
      'Ada',
    );
    assertTreezorError(await call(s.baseUrl, 'GET', '/v1/users/abc', { token: a.token }), 400);
  });
});

describe('request schemas', () => {
  const refusal = async (
    r: Promise<{ status: number; json: any; headers: Headers }>,
    code: string,
    param: string | undefined,
    message: string | RegExp,
  ) => {
    const e = assertTreezorError(await r, 400, code);
    assert.equal(e.param, param);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
  };

  test('each refusal names the field and says what it must be, in every part of the request', async () => {
    const t = await tenant();
    const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body: VALID_USER })).json.users[0];
    const post = (p: string, body: unknown) => call(s.baseUrl, 'POST', p, { token: t.token, body });
    await refusal(
      post('/v1/users', { ...VALID_USER, favouriteColour: 'blue' }),
      'invalid_parameter',
      'favouriteColour',
      'Unknown attribute: favouriteColour.',
    );
    await refusal(
      post('/v1/users', { specifiedUSPerson: 0, email: 'a@b.co' }),
      'missing_parameter',
      'userTypeId',
      'userTypeId is required.',
    );
    await refusal(
      post('/v1/users', { ...VALID_USER, firstname: 42 }),
      'invalid_parameter',
      'firstname',
      'firstname must be a string or null.',
    );
    await refusal(
      post(`/v1/users/${u.userId}/kycliveness`, { redirect_url: 'https://x.example' }),
      'invalid_parameter',
      'redirect_url',
      'Unknown attribute: redirect_url. Allowed: redirectUrl, accessTag.',
    );
    await refusal(
      call(s.baseUrl, 'GET', '/v1/users/abc', { token: t.token }),
      'invalid_parameter',
      'userId',
      'userId must be a positive integer.',
    );
    await refusal(
      call(s.baseUrl, 'GET', '/v1/documents?pageCount=1000', { token: t.token }),
      'invalid_parameter',
      'pageCount',
      'pageCount must be an integer between 1 and 200.',
    );
    await refusal(post('/simulation/kycliveness/x', {}), 'missing_parameter', 'outcome', 'outcome is required.');
    await refusal(
      post('/simulation/kycliveness/x', { outcome: 'processed', reasons: ['x'] }),
      'invalid_parameter',
      'reasons.0',
      /^reasons\.0 must be a reason code/,
    );
    await refusal(
      post('/simulation/kycliveness/x', { outcome: 'aborted', returnReason: 'refusal' }),
      'missing_parameter',
      'errorType',
      'errorType is required.',
    );
    await refusal(post('/v1/users', 'text'), 'invalid_parameter', undefined, 'The request body must be a JSON object.');
    const v = (await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token: t.token })).json
      .identification;
    const capture = `/capture/v1/sessions/${(v['identification-url'] as string).split('/').pop()}`;
    const upload = (
      await call(s.baseUrl, 'POST', `${capture}/uploads`, {
        body: { step: 'face', contentType: 'video/webm', size: 100 },
      })
    ).json.uploadId;
    await refusal(
      call(s.baseUrl, 'PATCH', `${capture}/uploads/${upload}`, {
        raw: 'x',
        headers: { 'content-type': 'application/offset+octet-stream' },
      }),
      'missing_parameter',
      'Upload-Offset',
      'The Upload-Offset header is required.',
    );
    await refusal(
      call(s.baseUrl, 'POST', `${capture}/complete`, { body: { metadata: { connection: { a: 1 } } } }),
      'invalid_parameter',
      'metadata.connection.a',
      'Unknown attribute: metadata.connection.a. Allowed: downlinkMbps, probeMs.',
    );
  });

  test('an attribute a route does not know is refused, never dropped: the request does nothing', async () => {
    const t = await tenant();
    const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body: VALID_USER })).json.users[0];
    const clients = await count('clients');
    await refusal(
      call(s.baseUrl, 'POST', '/admin/clients', {
        token: t.token,
        body: { name: 'typo', scopes: ['read_only'], scope: 'admin' },
      }),
      'invalid_parameter',
      'scope',
      /^Unknown attribute: scope\./,
    );
    assert.equal(await count('clients'), clients);
    await call(s.baseUrl, 'PUT', `/v1/users/${u.userId}/Kycreview`, { token: t.token });
    await refusal(
      call(s.baseUrl, 'POST', `/admin/users/${u.userId}/kycreview/decision`, {
        token: t.token,
        body: { decision: 'validated', comments: 'typo' },
      }),
      'invalid_parameter',
      'comments',
      /^Unknown attribute: comments\./,
    );
    const after = (await call(s.baseUrl, 'GET', `/v1/users/${u.userId}`, { token: t.token })).json.users[0];
    assert.equal(after.kycReview, '1', 'the review is still pending');
  });

  test('authentication comes before validation: no token or a wrong scope never reaches the schema', async () => {
    assertTreezorError(await call(s.baseUrl, 'GET', '/v1/users/abc'), 401, 'invalid_token');
    assertTreezorError(await call(s.baseUrl, 'POST', '/v1/users', { body: { nonsense: true } }), 401);
    const c = await s.newClient(['read_only', 'read_write', 'admin', 'legal']);
    const ro = await s.token(c, 'read_only');
    assertTreezorError(await call(s.baseUrl, 'POST', '/v1/users', { token: ro, body: { nonsense: true } }), 403);
  });

  test('/openapi.json publishes the schemas that validate', async () => {
    const doc = (await call(s.baseUrl, 'GET', '/openapi.json')).json;
    const create = doc.paths['/v1/users'].post.requestBody.content['application/json'].schema;
    assert.equal(create.additionalProperties, false);
    assert.deepEqual(create.required, ['userTypeId', 'specifiedUSPerson', 'email']);
    const userId = doc.paths['/v1/users/{userId}'].get.parameters.find((p: any) => p.name === 'userId');
    assert.equal(userId.schema.type, 'integer');
    // The body of POST kycliveness may be left out.
    assert.equal(doc.paths['/v1/users/{userId}/kycliveness'].post.requestBody.required, false);
    assert.equal(doc.paths['/v1/users'].post.requestBody.required, true);
  });
});

describe('malformed input (issue 25: each of these answered 500)', () => {
  test('HTTP Basic credentials that are not valid percent-encoding: 400 at the token endpoint, no token', async () => {
    const c = await s.newClient(['read_only']);
    for (const pair of [`${c.clientId}%:${c.clientSecret}`, `${c.clientId}:%E0%A4%A`, `%ZZ:x`]) {
      const r = await call(s.baseUrl, 'POST', '/oauth/token', {
        raw: 'grant_type=client_credentials',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(pair).toString('base64')}`,
        },
      });
      const e = assertTreezorError(r, 400, 'invalid_parameter');
      assert.equal(r.json.error, 'invalid_request');
      assert.match(e.message, /percent-encod/);
      assert.equal(r.json.access_token, undefined);
    }
  });

  test('a NUL character in a string (PostgreSQL refuses it in text and jsonb): 400 naming the field, nothing stored', async () => {
    const t = await tenant();
    const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body: VALID_USER })).json.users[0];
    const users = await count('users');
    let e = assertTreezorError(
      await call(s.baseUrl, 'POST', '/v1/users', {
        token: t.token,
        body: { ...VALID_USER, lastname: 'Love\u0000lace' },
      }),
      400,
      'invalid_parameter',
    );
    assert.equal(e.param, 'lastname');
    e = assertTreezorError(
      await call(s.baseUrl, 'PUT', `/v1/users/${u.userId}`, { token: t.token, body: { city: '\u0000' } }),
      400,
      'invalid_parameter',
    );
    assert.equal(e.param, 'city');
    e = assertTreezorError(
      await call(s.baseUrl, 'POST', '/v1/users?accessTag=a%00b', { token: t.token, body: VALID_USER }),
      400,
      'invalid_parameter',
    );
    assert.equal(e.param, 'accessTag');
    e = assertTreezorError(
      await call(s.baseUrl, 'GET', '/v1/documents?documentTag=%00', { token: t.token }),
      400,
      'invalid_parameter',
    );
    assert.equal(e.param, 'documentTag');
    assertTreezorError(
      await call(s.baseUrl, 'POST', '/oauth/token', {
        raw: 'grant_type=client_credentials&client_id=kcl_%00&client_secret=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      400,
    );
    // Deep inside a legacy attribute the schema lets through as it is (accepted and ignored).
    const deepNul = `${'{"a":'.repeat(100_000)}"\\u0000"${'}'.repeat(100_000)}`;
    e = assertTreezorError(
      await call(s.baseUrl, 'POST', '/v1/users', {
        token: t.token,
        raw: JSON.stringify(VALID_USER).replace(/}$/, `,"accessSignature":${deepNul}}`),
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'invalid_parameter',
    );
    assert.match(e.param, /^accessSignature\.a\.a\./);
    const clients = await count('clients');
    e = assertTreezorError(
      await call(s.baseUrl, 'POST', '/admin/clients', {
        token: t.token,
        body: { name: 'a\u0000b', scopes: ['read_only'] },
      }),
      400,
      'invalid_parameter',
    );
    assert.equal(e.param, 'name');
    assert.equal(await count('clients'), clients);
    assert.equal(await count('users'), users);
    assert.equal(
      (await call(s.baseUrl, 'GET', `/v1/users/${u.userId}`, { token: t.token })).json.users[0].city,
      '',
      'the update changed nothing',
    );
  });

  test('createdDateFrom/To outside the dates PostgreSQL stores: 400 naming the parameter', async () => {
    const t = await tenant();
    for (const q of [
      'createdDateFrom=-271821-04-20',
      'createdDateTo=-271821-04-20T00:00:00Z',
      'createdDateFrom=%2B275760-09-13',
      'createdDateTo=2024-13-01',
    ]) {
      const e = assertTreezorError(
        await call(s.baseUrl, 'GET', `/v1/documents?${q}`, { token: t.token }),
        400,
        'invalid_parameter',
      );
      assert.equal(e.param, q.split('=')[0], q);
    }
    const ok = await call(s.baseUrl, 'GET', '/v1/documents?createdDateFrom=2024-01-01%2010:00:00', { token: t.token });
    assert.equal(ok.status, 200, ok.text);
  });

  test('deeply nested JSON with an accessTag: 400, no tag reserved, nothing done', async () => {
    const t = await tenant();
    const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body: VALID_USER })).json.users[0];
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const before = { users: await count('users'), tags: await count('idempotency_keys') };
    for (const [m, p] of [
      ['POST', '/v1/users?accessTag=deep-1'],
      ['PUT', `/v1/users/${u.userId}?accessTag=deep-2`],
      ['PUT', `/v1/users/${u.userId}/kycliveness?accessTag=deep-3`],
      ['PUT', `/v1/users/${u.userId}/Kycreview?accessTag=deep-4`],
      ['POST', `/v1/users/${u.userId}/kycliveness?accessTag=deep-5`],
    ] as const) {
      assertTreezorError(
        await call(s.baseUrl, m, p, { token: t.token, raw: deep, headers: { 'content-type': 'application/json' } }),
        400,
        'invalid_parameter',
      );
    }
    assert.deepEqual({ users: await count('users'), tags: await count('idempotency_keys') }, before);
    assert.equal(
      (await call(s.baseUrl, 'GET', `/v1/users/${u.userId}`, { token: t.token })).json.users[0].kycReview,
      '0',
    );
  });

  test('deeply nested capture metadata: 400 naming the field, the capture unchanged', async () => {
    const t = await tenant();
    const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body: VALID_USER })).json.users[0];
    const v = (await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token: t.token })).json
      .identification;
    const token = (v['identification-url'] as string).split('/').pop();
    // As deep as the capture API's 64 KiB body limit allows.
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    for (const [endpoint, raw] of [
      ['complete', `{"metadata":{"connection":${deep}}}`],
      ['abort', `{"returnReason":"focus-lost","errorType":"none","metadata":${deep}}`],
    ]) {
      const e = assertTreezorError(
        await call(s.baseUrl, 'POST', `/capture/v1/sessions/${token}/${endpoint}`, {
          raw,
          headers: { 'content-type': 'application/json' },
        }),
        400,
        'invalid_parameter',
      );
      assert.equal(e.param, endpoint === 'complete' ? 'metadata.connection.a' : 'metadata.a');
    }
    assert.equal((await call(s.baseUrl, 'GET', `/capture/v1/sessions/${token}`)).json.state, 'initiated');
  });

  test("Object.prototype's names are unknown user attributes, not known ones (issue 25)", async () => {
    const t = await tenant();
    const before = await count('users');
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const raw = JSON.stringify(VALID_USER).replace(/}$/, `,${JSON.stringify(name)}:"x"}`);
      const e = assertTreezorError(
        await call(s.baseUrl, 'POST', '/v1/users', {
          token: t.token,
          raw,
          headers: { 'content-type': 'application/json' },
        }),
        400,
        'invalid_parameter',
      );
      assert.equal(e.param, name);
      assert.match(e.message, /Unknown attribute/);
    }
    assert.equal(await count('users'), before);
  });
});

describe('live verification', () => {
  test('428 names the missing KYC fields; bad redirectUrl is 400; both change nothing', async () => {
    const t = await tenant();
    const u = (
      await call(s.baseUrl, 'POST', '/v1/users', {
        token: t.token,
        body: { userTypeId: 1, specifiedUSPerson: 0, email: 'x@example.com', firstname: 'Ada' },
      })
    ).json.users[0];
    const before = await count('verifications');
    const e = assertTreezorError(
      await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token: t.token }),
      428,
    );
    assert.match(e.message, /lastname, birthday/);
    await call(s.baseUrl, 'PUT', `/v1/users/${u.userId}`, {
      token: t.token,
      body: { lastname: 'L', birthday: '1990-01-01' },
    });
    for (const redirectUrl of [
      'http://evil.example.com/',
      'javascript:alert(1)',
      'not a url',
      'https://user:pw@example.com/',
      42,
    ]) {
      assertTreezorError(
        await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token: t.token, body: { redirectUrl } }),
        400,
      );
    }
    assertTreezorError(
      await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, {
        token: t.token,
        body: { redirect_url: 'https://x.example' },
      }),
      400,
    );
    assert.equal(await count('verifications'), before);
    // Legacy clients: body as a raw string with */* content type, and path casing variants.
    const legacy = await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/Kycliveness/`, {
      token: t.token,
      raw: '{"redirectUrl":"https://integrator.example/back"}',
      headers: { 'content-type': '*/*' },
    });
    assert.equal(legacy.status, 201, legacy.text);
    assert.equal((await call(s.baseUrl, 'PUT', `/v1/users/${u.userId}/kycreview/`, { token: t.token })).status, 200);
  });

  test('JSON labelled as a form (curl -d) is read as JSON; broken JSON so labelled is 400 and changes nothing', async () => {
    const t = await tenant();
    const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body: VALID_USER })).json.users[0];
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const ok = await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, {
      token: t.token,
      raw: ' {"redirectUrl":"https://integrator.example/from-curl"}',
      headers: form,
    });
    assert.equal(ok.status, 201, ok.text);
    const before = await count('verifications');
    const broken = await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, {
      token: t.token,
      raw: '{"redirectUrl":',
      headers: form,
    });
    assert.equal(assertTreezorError(broken, 400).message, 'The request body is not valid JSON.');
    assert.equal(await count('verifications'), before);
    // a real form is still a form
    const c = await s.newClient(['read_only']);
    const tok = await call(s.baseUrl, 'POST', '/oauth/token', {
      raw: `grant_type=client_credentials&client_id=${encodeURIComponent(c.clientId)}&client_secret=${encodeURIComponent(c.clientSecret)}`,
      headers: form,
    });
    assert.equal(tok.status, 200, tok.text);
  });

  test('PUT kycliveness: 404 without a verification, 406 while not processed, 410 when superseded/expired', async () => {
    const t = await tenant();
    const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body: VALID_USER })).json.users[0];
    assertTreezorError(await call(s.baseUrl, 'PUT', `/v1/users/${u.userId}/kycliveness`, { token: t.token }), 404);
    await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token: t.token });
    assertTreezorError(
      await call(s.baseUrl, 'PUT', `/v1/users/${u.userId}/kycliveness`, { token: t.token }),
      406,
      'identification_not_processed',
    );
    s.clock.advance(8 * 24 * 3600 * 1000);
    try {
      const fresh = await s.token(t);
      assertTreezorError(await call(s.baseUrl, 'PUT', `/v1/users/${u.userId}/kycliveness`, { token: fresh }), 410);
      assert.equal(
        (await call(s.baseUrl, 'GET', `/v1/users/${u.userId}/kycliveness`, { token: fresh })).json['kyc-status'],
        'expired',
      );
    } finally {
      s.clock.advance(-8 * 24 * 3600 * 1000);
    }
  });

  test('simulation refuses bad outcomes, reason codes and abort rows without touching the verification', async () => {
    const t = await tenant();
    const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body: VALID_USER })).json.users[0];
    const v = (await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token: t.token })).json
      .identification;
    const id = v['identification-id'];
    for (const body of [
      {},
      { outcome: 'maybe' },
      { outcome: 'processed', score: 2 },
      { outcome: 'processed', reasons: [9999] },
      { outcome: 'processed', reasons: 'x' },
      { outcome: 'aborted', returnReason: 'refusal', errorType: 'no_SMS' },
      { outcome: 'aborted', returnReason: 'none', errorType: 'none' },
    ]) {
      assertTreezorError(await call(s.baseUrl, 'POST', `/simulation/kycliveness/${id}`, { token: t.token, body }), 400);
    }
    assertTreezorError(
      await call(s.baseUrl, 'POST', `/simulation/kycliveness/00000000-0000-4000-8000-000000000000`, {
        token: t.token,
        body: { outcome: 'processed' },
      }),
      404,
    );
    const other = await tenant();
    assertTreezorError(
      await call(s.baseUrl, 'POST', `/simulation/kycliveness/${id}`, {
        token: other.token,
        body: { outcome: 'processed' },
      }),
      404,
    );
    assert.equal(
      (await call(s.baseUrl, 'GET', `/v1/users/${u.userId}/kycliveness`, { token: t.token })).json['kyc-status'],
      'initiated',
    );
    const ok = await call(s.baseUrl, 'POST', `/simulation/kycliveness/${id}`, {
      token: t.token,
      body: { outcome: 'processed', score: 0, reasons: ['2304', 1301] },
    });
    assert.equal(ok.status, 200, ok.text);
    await s.settle();
    const st = (await call(s.baseUrl, 'GET', `/v1/users/${u.userId}/kycliveness`, { token: t.token })).json;
    assert.equal(st['kyc-status'], 'processed');
    assert.equal(st.score, 0);
    assert.deepEqual(
      st.reasons.map((r: any) => r['reason-code']),
      [2304, 1301],
    );
    // Terminal: a second simulation is a conflict and changes nothing.
    assertTreezorError(
      await call(s.baseUrl, 'POST', `/simulation/kycliveness/${id}`, {
        token: t.token,
        body: { outcome: 'aborted', returnReason: 'refusal', errorType: 'none' },
      }),
      409,
    );
  });
});

describe('documents and presigned URLs', () => {
  async function processedDocument() {
    const t = await tenant();
    const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body: VALID_USER })).json.users[0];
    const v = (await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token: t.token })).json
      .identification;
    await call(s.baseUrl, 'POST', `/simulation/kycliveness/${v['identification-id']}`, {
      token: t.token,
      body: { outcome: 'processed' },
    });
    await s.settle();
    const docs = (await call(s.baseUrl, 'PUT', `/v1/users/${u.userId}/kycliveness`, { token: t.token })).json.documents;
    return { t, u, doc: docs[0] };
  }

  test('a tampered or re-targeted download URL is 403; another tenant cannot list, read or sign the document', async () => {
    const { t, doc } = await processedDocument();
    const { url } = (await call(s.baseUrl, 'GET', `/v1/documents/${doc.documentId}/download`, { token: t.token })).json;
    const token = url.split('/').pop();
    for (let i = 0; i < token.length; i += 7) {
      const c = token[i] === 'A' ? 'B' : 'A';
      const r = await call(s.baseUrl, 'GET', `/files/documents/${token.slice(0, i)}${c}${token.slice(i + 1)}`);
      assertTreezorError(r, 403);
    }
    assertTreezorError(await call(s.baseUrl, 'GET', '/files/documents/garbage'), 403, 'invalid_signature');
    assert.equal((await fetch(url)).status, 200);
    const other = await tenant();
    assertTreezorError(await call(s.baseUrl, 'GET', `/v1/documents/${doc.documentId}`, { token: other.token }), 404);
    assertTreezorError(
      await call(s.baseUrl, 'GET', `/v1/documents/${doc.documentId}/download`, { token: other.token }),
      404,
    );
    assert.deepEqual((await call(s.baseUrl, 'GET', '/v1/documents', { token: other.token })).json.documents, []);
    assertTreezorError(await call(s.baseUrl, 'GET', '/v1/documents?pageCount=1000', { token: t.token }), 400);
    assertTreezorError(await call(s.baseUrl, 'GET', '/v1/documents?sortOrder=sideways', { token: t.token }), 400);
  });

  test('the stored document blob is encrypted at rest', async () => {
    const { doc } = await processedDocument();
    const r = await s.runtime.deps.db.query<{ blob_key: string }>('select blob_key from documents where id = $1', [
      Number(doc.documentId),
    ]);
    const { readFileSync } = await import('node:fs');
    const onDisk = readFileSync(`${s.dataDir}/blobs/${r.rows[0].blob_key}`);
    assert.ok(!onDisk.includes(Buffer.from('%PDF')), 'no plaintext PDF on disk');
    assert.equal(onDisk.subarray(0, 4).toString(), 'KLB1');
  });
});

describe('capture uploads', () => {
  async function session() {
    const t = await tenant();
    const u = (await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body: VALID_USER })).json.users[0];
    const v = (await call(s.baseUrl, 'POST', `/v1/users/${u.userId}/kycliveness`, { token: t.token })).json
      .identification;
    return { t, u, token: (v['identification-url'] as string).split('/').pop()! };
  }
  const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 7)]);

  test('wrong step, unsupported type, content not matching its type, unknown token: refused, nothing stored', async () => {
    const { token } = await session();
    const before = await count('capture_media');
    assertTreezorError(
      await call(s.baseUrl, 'PUT', `/capture/v1/sessions/${token}/media/selfie`, {
        raw: JPEG,
        headers: { 'content-type': 'image/jpeg' },
      }),
      400,
    );
    assertTreezorError(
      await call(s.baseUrl, 'PUT', `/capture/v1/sessions/${token}/media/face`, {
        raw: JPEG,
        headers: { 'content-type': 'application/zip' },
      }),
      415,
    );
    assertTreezorError(
      await call(s.baseUrl, 'PUT', `/capture/v1/sessions/${token}/media/face`, {
        raw: Buffer.from('definitely not a webm video file'),
        headers: { 'content-type': 'video/webm' },
      }),
      415,
    );
    assertTreezorError(
      await call(s.baseUrl, 'PUT', `/capture/v1/sessions/${'x'.repeat(43)}/media/face`, {
        raw: JPEG,
        headers: { 'content-type': 'image/jpeg' },
      }),
      404,
    );
    assert.equal(await count('capture_media'), before);
    const ok = await call(s.baseUrl, 'PUT', `/capture/v1/sessions/${token}/media/face`, {
      raw: JPEG,
      headers: { 'content-type': 'image/jpeg' },
    });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json.bytes, JPEG.length);
  });

  test('an upload over the size limit is 413 and leaves no blob behind', async () => {
    const { token } = await session();
    const limit = s.runtime.config.uploads.maxBytes;
    s.runtime.config.uploads.maxBytes = 1024;
    try {
      const big = Buffer.concat([JPEG, Buffer.alloc(4096, 1)]);
      assertTreezorError(
        await call(s.baseUrl, 'PUT', `/capture/v1/sessions/${token}/media/face`, {
          raw: big,
          headers: { 'content-type': 'image/jpeg' },
        }),
        413,
      );
      // Chunked (no Content-Length): the limit is enforced while streaming.
      const streamed = await fetch(`${s.baseUrl}/capture/v1/sessions/${token}/media/face`, {
        method: 'PUT',
        headers: { 'content-type': 'image/jpeg' },
        duplex: 'half',
        body: new ReadableStream({
          start(c) {
            c.enqueue(new Uint8Array(big));
            c.close();
          },
        }),
      } as RequestInit);
      assert.equal(streamed.status, 413);
    } finally {
      s.runtime.config.uploads.maxBytes = limit;
    }
    const { readdirSync, existsSync } = await import('node:fs');
    const dir = `${s.dataDir}/blobs/captures`;
    const files = existsSync(dir)
      ? readdirSync(dir, { recursive: true }).filter((f) => String(f).includes('face'))
      : [];
    const stored = await count('capture_media');
    assert.equal(files.length, stored === 0 ? 0 : files.length);
  });

  test('complete refuses a session with missing steps; abort refuses undocumented rows', async () => {
    const { token } = await session();
    assertTreezorError(await call(s.baseUrl, 'POST', `/capture/v1/sessions/${token}/complete`, { body: {} }), 409);
    assertTreezorError(
      await call(s.baseUrl, 'POST', `/capture/v1/sessions/${token}/complete`, {
        body: { documentType: 'library_card' },
      }),
      400,
    );
    assertTreezorError(
      await call(s.baseUrl, 'POST', `/capture/v1/sessions/${token}/complete`, {
        body: { metadata: { webdriver: 'yes' } },
      }),
      400,
    );
    assertTreezorError(
      await call(s.baseUrl, 'POST', `/capture/v1/sessions/${token}/abort`, {
        body: { returnReason: 'bored', errorType: 'none' },
      }),
      400,
    );
    const st = await call(s.baseUrl, 'GET', `/capture/v1/sessions/${token}`);
    assert.equal(st.json.state, 'initiated');
    const ab = await call(s.baseUrl, 'POST', `/capture/v1/sessions/${token}/abort`, {
      body: { returnReason: 'focus-lost', errorType: 'none' },
    });
    assert.equal(ab.status, 200);
    const u = new URL(ab.json.redirectUrl);
    assert.equal(u.searchParams.get('status'), 'aborted');
    assert.equal(u.searchParams.get('return_reason'), 'focus-lost');
    assert.equal(u.searchParams.get('error_type'), 'none');
    assertTreezorError(
      await call(s.baseUrl, 'PUT', `/capture/v1/sessions/${token}/media/face`, {
        raw: JPEG,
        headers: { 'content-type': 'image/jpeg' },
      }),
      409,
    );
  });
});

describe('accessTag idempotency', () => {
  test('a repeated tag returns the first response without acting twice; the same tag on another request is 409', async () => {
    const t = await tenant();
    const before = await count('users');
    const a = await call(s.baseUrl, 'POST', '/v1/users?accessTag=create-ada-1', { token: t.token, body: VALID_USER });
    const b = await call(s.baseUrl, 'POST', '/v1/users?accessTag=create-ada-1', { token: t.token, body: VALID_USER });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(b.json.users[0].userId, a.json.users[0].userId);
    assert.equal(b.headers.get('kyclive-replayed'), 'true');
    assert.equal(await count('users'), before + 1);
    assertTreezorError(
      await call(s.baseUrl, 'POST', '/v1/users?accessTag=create-ada-1', {
        token: t.token,
        body: { ...VALID_USER, email: 'other@example.com' },
      }),
      409,
    );
    assertTreezorError(
      await call(s.baseUrl, 'POST', `/v1/users?accessTag=${'x'.repeat(251)}`, { token: t.token, body: VALID_USER }),
      400,
    );
    // Tags are per client.
    const other = await tenant();
    const c = await call(s.baseUrl, 'POST', '/v1/users?accessTag=create-ada-1', {
      token: other.token,
      body: VALID_USER,
    });
    assert.notEqual(c.json.users[0].userId, a.json.users[0].userId);
  });

  test('copies of one request sent together act once: the others get its response or 409 while it runs', async () => {
    const t = await tenant();
    const before = await count('users');
    const res = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(s.baseUrl, 'POST', '/v1/users?accessTag=together-1', { token: t.token, body: VALID_USER }),
      ),
    );
    assert.equal(await count('users'), before + 1, res.map((r) => r.status).join(','));
    const done = res.filter((r) => r.status === 200);
    assert.ok(done.length >= 1);
    assert.equal(new Set(done.map((r) => r.json.users[0].userId)).size, 1);
    for (const r of res.filter((x) => x.status !== 200))
      assert.match(assertTreezorError(r, 409).message, /still being processed/);
    // Once it has finished, every retry gets the stored response.
    const again = await call(s.baseUrl, 'POST', '/v1/users?accessTag=together-1', { token: t.token, body: VALID_USER });
    assert.equal(again.json.users[0].userId, done[0].json.users[0].userId);
  });

  test('a refused request releases its tag: corrected, it acts under the same tag', async () => {
    const t = await tenant();
    assertTreezorError(
      await call(s.baseUrl, 'POST', '/v1/users?accessTag=fix-1', {
        token: t.token,
        body: { ...VALID_USER, email: 'not-an-email' },
      }),
      400,
    );
    const ok = await call(s.baseUrl, 'POST', '/v1/users?accessTag=fix-1', { token: t.token, body: VALID_USER });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.get('kyclive-replayed'), null);
  });

  test('a reservation left by a request that never finished lapses after its lease', async () => {
    const t = await tenant();
    // what a process that died mid-request leaves behind
    const fingerprintOf = createHash('sha256')
      .update(`POST /v1/users ${JSON.stringify(VALID_USER)}`)
      .digest('hex');
    await s.runtime.deps.db.query(
      `insert into idempotency_keys (client_id, access_tag, request_fingerprint, status, body, created_at) values ($1, 'crashed-1', $2, 0, '', $3)`,
      [t.clientId, fingerprintOf, s.clock.now()],
    );
    assertTreezorError(
      await call(s.baseUrl, 'POST', '/v1/users?accessTag=crashed-1', { token: t.token, body: VALID_USER }),
      409,
    );
    s.clock.advance(61_000);
    try {
      const r = await call(s.baseUrl, 'POST', '/v1/users?accessTag=crashed-1', { token: t.token, body: VALID_USER });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('kyclive-replayed'), null);
    } finally {
      s.clock.advance(-61_000);
    }
  });
});

describe('webhook subscriptions', () => {
  test('receivers on private or metadata addresses are refused', async () => {
    const t = await tenant();
    for (const url of [
      'http://10.0.0.5/h',
      'https://192.168.1.1/h',
      'http://169.254.169.254/latest',
      'ftp://example.com/',
      'notaurl',
    ]) {
      assertTreezorError(await call(s.baseUrl, 'POST', '/settings/hooks', { token: t.token, body: { url } }), 400);
    }
    assert.equal((await call(s.baseUrl, 'GET', '/settings/hooks', { token: t.token })).json.hooks.length, 0);
    assertTreezorError(
      await call(s.baseUrl, 'DELETE', '/settings/hooks/00000000-0000-4000-8000-000000000000', { token: t.token }),
      404,
    );
  });
});

test('unknown routes answer 404 in the Treezor format', async () => {
  assertTreezorError(await call(s.baseUrl, 'GET', '/v1/nothing-here'), 404);
});

describe('concurrent initiations (group commit)', () => {
  test('many users at once, several requests per user: each user ends with exactly one live verification, errors stay per request', async () => {
    const t = await tenant();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await call(s.baseUrl, 'POST', '/v1/users', { token: t.token, body: VALID_USER })).json.users[0].userId);
    const incomplete = (
      await call(s.baseUrl, 'POST', '/v1/users', {
        token: t.token,
        body: { userTypeId: 1, specifiedUSPerson: 0, email: 'i@example.com' },
      })
    ).json.users[0].userId;
    const other = await tenant();
    const foreign = (await call(s.baseUrl, 'POST', '/v1/users', { token: other.token, body: VALID_USER })).json.users[0]
      .userId;
    const reqs = [...ids, ...ids, ...ids, incomplete, foreign].map((id) =>
      call(s.baseUrl, 'POST', `/v1/users/${id}/kycliveness`, { token: t.token }),
    );
    const res = await Promise.all(reqs);
    assert.deepEqual(
      res.slice(0, 15).map((r) => r.status),
      Array(15).fill(201),
    );
    assertTreezorError(res[15], 428);
    assertTreezorError(res[16], 404);
    const r = await s.runtime.deps.db.query<{ user_id: number; state: string; n: number }>(
      `select user_id, state, count(*)::int as n from verifications where client_id = $1 group by user_id, state order by user_id, state`,
      [t.clientId],
    );
    for (const id of ids) {
      const rows = r.rows.filter((x) => String(x.user_id) === id);
      assert.deepEqual(
        rows.map((x) => [x.state, x.n]),
        [
          ['initiated', 1],
          ['superseded', 2],
        ],
        `user ${id}`,
      );
    }
  });
});

describe('token endpoint throttling', () => {
  test('after 10 failed attempts for a client, even the right secret waits a minute (429 with Retry-After)', async () => {
    s.clock.advance(61_000); // a fresh window: earlier tests failed on purpose from this address
    const c = await s.newClient();
    const form = (secret: string) => ({
      raw: `grant_type=client_credentials&client_id=${c.clientId}&client_secret=${secret}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.9' },
    });
    for (let i = 0; i < 10; i++)
      assert.equal((await call(s.baseUrl, 'POST', '/oauth/token', form('wrong'))).status, 401);
    const limited = await call(s.baseUrl, 'POST', '/oauth/token', form(c.clientSecret));
    assertTreezorError(limited, 429, 'too_many_requests');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    // Another client from the same address is not locked out by this one's failures.
    const other = await s.newClient();
    assert.equal(
      (
        await call(s.baseUrl, 'POST', '/oauth/token', {
          body: { grant_type: 'client_credentials', client_id: other.clientId, client_secret: other.clientSecret },
        })
      ).status,
      200,
    );
    s.clock.advance(61_000);
    assert.equal((await call(s.baseUrl, 'POST', '/oauth/token', form(c.clientSecret))).status, 200);
  });
});
