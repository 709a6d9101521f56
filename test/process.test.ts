/**
 * kyclive as its users start it: the real entry point in a child process. Checks the printed
 * lines other tools parse, health endpoints, the docs page, JSON logs without personal data,
 * the clients CLI, and a graceful SIGTERM that finishes what is in flight. The last test drives
 * the runtime's close() in process, where a request can be held in flight deterministically.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPgliteThread } from '../src/storage/db/pglite-thread.ts';
import { call, startTestServer } from './helpers/runtime.ts';

const BIN = new URL('../bin/kyclive.mjs', import.meta.url).pathname;

function startServer(dataDir: string) {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      KYCLIVE_DATA_DIR: dataDir,
      DATABASE_URL: '',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const ready = new Promise<{ base: string; clientId: string; clientSecret: string }>((resolve, reject) => {
    const t = setInterval(() => {
      const base = /^kyclive listening on (http:\/\/\S+)$/m.exec(out)?.[1];
      const demo = /^demo client: client_id=(\S+) client_secret=(\S+)$/m.exec(out);
      if (base && demo) {
        clearInterval(t);
        resolve({ base, clientId: demo[1], clientSecret: demo[2] });
      }
    }, 50);
    child.on('exit', (code) => {
      clearInterval(t);
      reject(new Error(`server exited ${code}: ${out}`));
    });
  });
  return { child, ready, output: () => out };
}

test('serve: printed lines, health, docs, logs without personal data, graceful SIGTERM', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kyclive-proc-'));
  try {
    const srv = startServer(dataDir);
    const { base, clientId, clientSecret } = await srv.ready;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const docs = await fetch(`${base}/docs/`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
    const spec = (await (await fetch(`${base}/openapi.json`)).json()) as any;
    assert.ok(spec.paths['/v1/users/{userId}/kycliveness'].post);

    const tok = (await (
      await fetch(`${base}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: clientSecret,
        }),
      })
    ).json()) as any;
    const h = { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' };
    const u = (await (
      await fetch(`${base}/v1/users`, {
        method: 'POST',
        headers: h,
        body: JSON.stringify({
          userTypeId: 1,
          specifiedUSPerson: 0,
          email: 'secret.person@example.com',
          firstname: 'Zyxwvut',
          lastname: 'Qponmlk',
          birthday: '1970-01-01',
        }),
      })
    ).json()) as any;
    const v = (await (
      await fetch(`${base}/v1/users/${u.users[0].userId}/kycliveness`, { method: 'POST', headers: h })
    ).json()) as any;
    const url = v.identification['identification-url'] as string;
    assert.equal((await fetch(url)).status, 200);

    // A second process on the same embedded database is refused clearly (PGlite is single-process).
    const second = spawnSync(process.execPath, [BIN, 'clients', 'list'], {
      env: { ...process.env, KYCLIVE_DATA_DIR: dataDir, DATABASE_URL: '' },
      encoding: 'utf8',
    });
    assert.notEqual(second.status, 0);
    assert.match(second.stderr, /in use by another kyclive process \(pid \d+\)/);

    // A request in flight when SIGTERM arrives still completes.
    const inFlight = fetch(`${base}/v1/users/${u.users[0].userId}`, { headers: h });
    srv.child.kill('SIGTERM');
    assert.equal((await inFlight).status, 200);
    const code = await new Promise((r) => srv.child.on('exit', r));
    assert.equal(code, 0);

    const out = srv.output();
    const logLines = out.split('\n').filter((l) => l.startsWith('{'));
    assert.ok(logLines.length > 0, 'JSON logs');
    for (const l of logLines) JSON.parse(l);
    assert.ok(
      logLines.some((l) => /"reqId"/.test(l)),
      'request ids in logs',
    );
    // one access line per request, when it completes, with the capture token masked
    const access = logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request completed');
    assert.ok(!out.includes('incoming request'));
    assert.doesNotMatch(out, /Deprecation|Warning:/, 'no warnings at start or under use');
    const opened = access.filter((l) => l.req?.url === '/identification/***');
    assert.equal(opened.length, 1);
    assert.equal(opened[0].res.statusCode, 200);
    assert.equal(typeof opened[0].responseTime, 'number');
    assert.equal(access.filter((l) => l.req?.method === 'POST' && /kycliveness$/.test(l.req.url)).length, 1);
    for (const secret of ['secret.person@example.com', 'Zyxwvut', 'Qponmlk', tok.access_token, url.split('/').pop()!]) {
      assert.ok(!out.includes(secret), `log leaks ${secret.slice(0, 12)}…`);
    }
    assert.match(out, /shutting down/);

    // The clients CLI works on the stopped server's data.
    const env = { ...process.env, KYCLIVE_DATA_DIR: dataDir, DATABASE_URL: '' };
    const created = spawnSync(
      process.execPath,
      [BIN, 'clients', 'create', '--name', 'Acme', '--scopes', 'read_only read_write'],
      { env, encoding: 'utf8' },
    );
    assert.equal(created.status, 0, created.stderr);
    const c = JSON.parse(created.stdout);
    assert.match(c.client_id, /^kcl_/);
    const list = spawnSync(process.execPath, [BIN, 'clients', 'list'], { env, encoding: 'utf8' });
    assert.match(list.stdout, new RegExp(`${c.client_id}\\tAcme\\tread_only read_write`));
    assert.ok(!list.stdout.includes(c.client_secret));
    const rotated = spawnSync(process.execPath, [BIN, 'clients', 'rotate', c.client_id], { env, encoding: 'utf8' });
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.notEqual(JSON.parse(rotated.stdout).client_secret, c.client_secret);
    const bad = spawnSync(process.execPath, [BIN, 'clients', 'create', '--name', 'X', '--scopes', 'superuser'], {
      env,
      encoding: 'utf8',
    });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /scopes/);

    // Restart: the same demo client is printed and still works.
    const again = startServer(dataDir);
    const r2 = await again.ready;
    assert.equal(r2.clientId, clientId);
    again.child.kill('SIGTERM');
    await new Promise((r) => again.child.on('exit', r));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// The server answers as soon as it listens, while the analysis engine's processes are still
// starting (seconds): a SIGTERM then must still stop it gracefully, not kill it.
test('serve: a SIGTERM while the analysis engine is still starting stops the server gracefully', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kyclive-early-'));
  try {
    const srv = startServer(dataDir);
    srv.ready.catch(() => undefined); // this server is stopped before it prints its lines
    const base = await new Promise<string>((resolve, reject) => {
      const iv = setInterval(() => {
        const m = /"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/.exec(srv.output());
        if (m) {
          clearInterval(iv);
          resolve(m[1]);
        }
      }, 5);
      srv.child.on('exit', (c) => {
        clearInterval(iv);
        reject(new Error(`server exited ${c}: ${srv.output()}`));
      });
    });
    const exited = new Promise<[number | null, string | null]>((r) =>
      srv.child.on('exit', (code, signal) => r([code, signal])),
    );
    assert.equal((await fetch(`${base}/readyz`)).status, 200, 'it serves requests already');
    srv.child.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null], srv.output());
    assert.doesNotMatch(srv.output(), /^kyclive listening on/m, 'stopped before the engine had started');
    assert.match(srv.output(), /shutting down/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('npm start: the SIGTERM a supervisor sends to npm reaches the server, which shuts down gracefully', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kyclive-npm-'));
  // npm passes the signal to its script's shell; only `exec` in the script makes that shell the
  // server itself (without it, the server kept running after npm had gone).
  const npm = spawn('npm', ['start', '--silent'], {
    cwd: new URL('..', import.meta.url).pathname,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      KYCLIVE_DATA_DIR: dataDir,
      DATABASE_URL: '',
      KYCLIVE_ANALYZER: 'sandbox',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so that the test can clean up whatever it leaves
  });
  let out = '';
  npm.stdout.on('data', (d) => {
    out += d;
  });
  npm.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => npm.on('exit', r));
  try {
    const base = await new Promise<string>((resolve, reject) => {
      const iv = setInterval(() => {
        const m = /^kyclive listening on (\S+)$/m.exec(out);
        if (m) {
          clearInterval(iv);
          resolve(m[1]);
        }
      }, 50);
      npm.on('exit', (c) => {
        clearInterval(iv);
        reject(new Error(`npm start exited ${c}: ${out}`));
      });
    });
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    npm.kill('SIGTERM');
    await exited;
    assert.match(out, /shutting down/);
    await assert.rejects(fetch(`${base}/healthz`), 'nothing listens any more');
  } finally {
    try {
      process.kill(-npm.pid!, 'SIGKILL');
    } catch {
      /* the group is gone: all exited */
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('split deployment on PostgreSQL: API with KYCLIVE_WORKER=0, jobs run by a separate `kyclive worker`', async (t) => {
  const { testDatabases } = await import('./helpers/databases.ts');
  const pgBackend = (await testDatabases()).find((b) => b.name === 'postgres')!;
  if (pgBackend.skip) {
    t.skip(pgBackend.skip);
    return;
  }
  const { db, url, drop } = await pgBackend.open();
  await db.close();
  const { startReceiver } = await import('./helpers/webhook-receiver.ts');
  const rec = await startReceiver();
  const dataDir = mkdtempSync(join(tmpdir(), 'kyclive-split-'));
  const secrets = {
    KYCLIVE_SECRET: Buffer.alloc(32, 1).toString('base64'),
    BLOB_ENCRYPTION_KEY: Buffer.alloc(32, 2).toString('base64'),
  };
  const env = {
    ...process.env,
    ...secrets,
    DATABASE_URL: url!,
    KYCLIVE_DATA_DIR: dataDir,
    WEBHOOK_ALLOW_LOOPBACK: '1',
    KYCLIVE_SANDBOX: '1',
    WEBHOOK_POLL_MS: '100',
    JOB_POLL_MS: '100',
  };
  const api = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...env, PORT: '0', HOST: '127.0.0.1', KYCLIVE_WORKER: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let worker: ReturnType<typeof spawn> | undefined;
  try {
    let out = '';
    api.stdout!.on('data', (d) => {
      out += d;
    });
    api.stderr!.on('data', (d) => {
      out += d;
    });
    const base = await new Promise<string>((resolve, reject) => {
      const iv = setInterval(() => {
        const m = /^kyclive listening on (\S+)$/m.exec(out);
        if (m) {
          clearInterval(iv);
          resolve(m[1]);
        }
      }, 50);
      api.on('exit', (c) => {
        clearInterval(iv);
        reject(new Error(`api exited ${c}: ${out}`));
      });
    });
    // No demo client in production mode: create one with the CLI against the same database.
    const created = spawnSync(
      process.execPath,
      [BIN, 'clients', 'create', '--name', 'Split', '--scopes', 'read_only read_write admin legal'],
      { env, encoding: 'utf8' },
    );
    assert.equal(created.status, 0, created.stderr);
    const c = JSON.parse(created.stdout);
    const tok = (await (
      await fetch(`${base}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: c.client_id,
          client_secret: c.client_secret,
        }),
      })
    ).json()) as any;
    const h = { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' };
    await fetch(`${base}/settings/hooks`, { method: 'POST', headers: h, body: JSON.stringify({ url: rec.url }) });
    const u = (await (
      await fetch(`${base}/v1/users`, {
        method: 'POST',
        headers: h,
        body: JSON.stringify({
          userTypeId: 1,
          specifiedUSPerson: 0,
          email: 's@example.com',
          firstname: 'S',
          lastname: 'P',
          birthday: '1980-02-02',
        }),
      })
    ).json()) as any;
    const v = (await (
      await fetch(`${base}/v1/users/${u.users[0].userId}/kycliveness`, { method: 'POST', headers: h })
    ).json()) as any;
    await fetch(`${base}/simulation/kycliveness/${v.identification['identification-id']}`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ outcome: 'processed', score: 1 }),
    });
    const waitFor = async (pred: () => boolean, ms: number) => {
      const t0 = Date.now();
      while (!pred() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 50));
      return pred();
    };
    assert.ok(
      await waitFor(() => rec.events('kycliveness.create').length === 1, 10_000),
      'create delivered by the API process',
    );
    // The API process does not run jobs: no analysis yet.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(rec.events('kycliveness.update').length, 0);
    worker = spawn(process.execPath, [BIN, 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    assert.ok(
      await waitFor(() => rec.events('kycliveness.update').length === 1, 20_000),
      'the worker ran the analysis',
    );
    assert.equal(rec.events('kycliveness.update')[0].object_payload.score, 1);
  } finally {
    worker?.kill('SIGTERM');
    api.kill('SIGTERM');
    await Promise.all([worker && new Promise((r) => worker!.on('exit', r)), new Promise((r) => api.on('exit', r))]);
    await rec.close();
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('close: a request in flight when the runtime starts draining is answered, with Connection: close', async () => {
  const db = await openPgliteThread();
  const s = await startTestServer(db);
  let closing: Promise<void> | undefined;
  try {
    const token = await s.token(await s.newClient());
    const user = (
      await call(s.baseUrl, 'POST', '/v1/users', {
        token,
        body: {
          userTypeId: 1,
          specifiedUSPerson: 0,
          email: 'drain@example.com',
          firstname: 'Ada',
          lastname: 'L',
          birthday: '1990-01-01',
        },
      })
    ).json.users[0];
    // An open transaction holds the embedded database: the GET below waits for it, in flight.
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const held = db.transaction(async (tx) => {
      await tx.query('select 1');
      await gate;
    });
    const inFlight = call(s.baseUrl, 'GET', `/v1/users/${user.userId}`, { token });
    await sleep(200);
    closing = s.runtime.close();
    await sleep(50);
    release();
    await held;
    const r = await inFlight;
    assert.equal(r.status, 200);
    assert.equal(r.json.users[0].userId, user.userId);
    assert.equal(r.headers.get('connection'), 'close');
  } finally {
    await (closing ?? s.runtime.close());
    rmSync(s.dataDir, { recursive: true, force: true });
  }
});
