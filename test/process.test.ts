/**
 * kyclive as its users start it: the real entry point in a child process. Checks the printed
 * lines other tools parse, health endpoints, the docs page, JSON logs without personal data,
 * the clients CLI, and a graceful SIGTERM that finishes what is in flight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = new URL('../bin/kyclive.mjs', import.meta.url).pathname;

function startServer(dataDir: string) {
  const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', KYCLIVE_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const ready = new Promise<{ base: string; clientId: string; clientSecret: string }>((resolve, reject) => {
    const t = setInterval(() => {
      const base = /^kyclive listening on (http:\/\/\S+)$/m.exec(out)?.[1];
      const demo = /^demo client: client_id=(\S+) client_secret=(\S+)$/m.exec(out);
      if (base && demo) { clearInterval(t); resolve({ base, clientId: demo[1], clientSecret: demo[2] }); }
    }, 50);
    child.on('exit', (code) => { clearInterval(t); reject(new Error(`server exited ${code}: ${out}`)); });
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

    const tok = (await (await fetch(`${base}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }) })).json()) as any;
    const h = { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' };
    const u = (await (await fetch(`${base}/v1/users`, { method: 'POST', headers: h, body: JSON.stringify({ userTypeId: 1, specifiedUSPerson: 0, email: 'secret.person@example.com', firstname: 'Zyxwvut', lastname: 'Qponmlk', birthday: '1970-01-01' }) })).json()) as any;
    const v = (await (await fetch(`${base}/v1/users/${u.users[0].userId}/kycliveness`, { method: 'POST', headers: h })).json()) as any;
    const url = v.identification['identification-url'] as string;
    assert.equal((await fetch(url)).status, 200);

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
    assert.ok(logLines.some((l) => /"reqId"/.test(l)), 'request ids in logs');
    for (const secret of ['secret.person@example.com', 'Zyxwvut', 'Qponmlk', tok.access_token, url.split('/').pop()!]) {
      assert.ok(!out.includes(secret), `log leaks ${secret.slice(0, 12)}…`);
    }
    assert.match(out, /shutting down/);

    // The clients CLI works on the stopped server's data.
    const env = { ...process.env, KYCLIVE_DATA_DIR: dataDir, DATABASE_URL: '' };
    const created = spawnSync(process.execPath, [BIN, 'clients', 'create', '--name', 'Acme', '--scopes', 'read_only read_write'], { env, encoding: 'utf8' });
    assert.equal(created.status, 0, created.stderr);
    const c = JSON.parse(created.stdout);
    assert.match(c.client_id, /^kcl_/);
    const list = spawnSync(process.execPath, [BIN, 'clients', 'list'], { env, encoding: 'utf8' });
    assert.match(list.stdout, new RegExp(`${c.client_id}\\tAcme\\tread_only read_write`));
    assert.ok(!list.stdout.includes(c.client_secret));
    const rotated = spawnSync(process.execPath, [BIN, 'clients', 'rotate', c.client_id], { env, encoding: 'utf8' });
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.notEqual(JSON.parse(rotated.stdout).client_secret, c.client_secret);
    const bad = spawnSync(process.execPath, [BIN, 'clients', 'create', '--name', 'X', '--scopes', 'superuser'], { env, encoding: 'utf8' });
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
