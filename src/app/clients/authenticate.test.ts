import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../config/config.ts';
import { openPglite } from '../../storage/db/pglite.ts';
import { migrate } from '../../storage/db/migrate.ts';
import type { Clock, Db } from '../ports.ts';
import { noWakeups, silentLog, type AppDeps } from '../deps.ts';
import { CLIENT_STATE_TTL_MS, createAuthenticator } from './authenticate.ts';
import { createClient } from './create-client.ts';
import { issueToken } from './issue-token.ts';
import { rotateClientSecret } from './rotate-client-secret.ts';

let db: Db & { close(): Promise<void> };
/** Reads of a client's state, counted on the real database. */
let stateReads = 0;
let offsetMs = 0;
const clock: Clock = { now: () => new Date(Date.UTC(2026, 10, 26, 12) + offsetMs) };
let deps: AppDeps;

before(async () => {
  const raw = await openPglite();
  await migrate(raw);
  db = Object.assign(Object.create(raw), {
    query: (sql: string, params?: unknown[]) => {
      if (sql.includes('from clients where id = $1')) stateReads++;
      return raw.query(sql, params);
    },
  });
  deps = {
    db,
    clock,
    config: loadConfig(
      { KYCLIVE_DATA_DIR: '/nonexistent' },
      { secret: randomBytes(32), blobEncryptionKey: randomBytes(32) },
    ),
    log: silentLog,
    wake: noWakeups,
  } as unknown as AppDeps;
});
after(() => db.close());

async function tokenFor() {
  const c = await createClient(db, { name: 'auth', scopes: ['read_write'] });
  const t = await issueToken(deps, {
    grant_type: 'client_credentials',
    client_id: c.clientId,
    client_secret: c.clientSecret,
  });
  return { clientId: c.clientId, authorization: `Bearer ${t.access_token}` };
}

test('requests that find the client state expired share one read of it', async () => {
  offsetMs = 0;
  const authenticate = createAuthenticator(deps);
  const { clientId, authorization } = await tokenFor();
  stateReads = 0;
  const first = await Promise.all(Array.from({ length: 50 }, () => authenticate(authorization)));
  assert.equal(stateReads, 1);
  assert.ok(first.every((p) => p.clientId === clientId));
  offsetMs += CLIENT_STATE_TTL_MS;
  await Promise.all(Array.from({ length: 50 }, () => authenticate(authorization)));
  assert.equal(stateReads, 2);
});

test('near the end of its life the state is read again in the background, once, while requests go on', async () => {
  offsetMs = 0;
  const authenticate = createAuthenticator(deps);
  const { authorization } = await tokenFor();
  await authenticate(authorization);
  stateReads = 0;
  offsetMs += CLIENT_STATE_TTL_MS - 500;
  await Promise.all(Array.from({ length: 50 }, () => authenticate(authorization)));
  assert.equal(stateReads, 1);
  // the reload has landed: the entry is fresh again and nothing is read past the old expiry
  await new Promise((r) => setTimeout(r, 50));
  offsetMs += 1000;
  await authenticate(authorization);
  assert.equal(stateReads, 1);
});

test('a rotated secret is refused within the cache lifetime, never served past it', async () => {
  offsetMs = 0;
  const authenticate = createAuthenticator(deps);
  const { clientId, authorization } = await tokenFor();
  await authenticate(authorization);
  await rotateClientSecret(db, clientId);
  // still inside the lifetime and outside the refresh window: the cached state is used
  offsetMs += CLIENT_STATE_TTL_MS - 2000;
  await authenticate(authorization);
  offsetMs += 2000;
  await assert.rejects(async () => authenticate(authorization), /no longer valid/);
});
