/**
 * A real kyclive on a random loopback port: real database (PGlite or PostgreSQL), real encrypted
 * disk blob store in a temp dir, real job runner and webhook dispatcher, injected clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { createRuntime, type Runtime } from '../../src/main/compose.ts';
import { createClient } from '../../src/app/clients/create-client.ts';
import type { Analyzer, Db } from '../../src/app/ports.ts';
import type { Log } from '../../src/app/deps.ts';
import { ManualClock } from './clock.ts';

export interface TestServer {
  runtime: Runtime;
  clock: ManualClock;
  baseUrl: string;
  dataDir: string;
  /** A fresh tenant with every scope. */
  newClient(scopes?: string[]): Promise<{ clientId: string; clientSecret: string }>;
  token(client: { clientId: string; clientSecret: string }, scope?: string): Promise<string>;
  /** Waits until no job and no webhook delivery is due or in flight. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestServer(
  db: Db,
  opts: { env?: Record<string, string>; config?: Partial<Config>; analyzer?: Analyzer; log?: Log } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kyclive-test-'));
  const clock = new ManualClock();
  // The sandbox analyzer unless a test asks for the engine: loading the models costs seconds and ~330 MB.
  const base = loadConfig(
    {
      KYCLIVE_DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      JOB_POLL_MS: '50',
      KYCLIVE_ANALYZER: 'sandbox',
      ...opts.env,
    },
    {
      secret: randomBytes(32),
      blobEncryptionKey: randomBytes(32),
      ...opts.config,
    },
  );
  const runtime = await createRuntime(base, { clock, db, analyzer: opts.analyzer, log: opts.log });
  await runtime.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (runtime.app.server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  // publicBaseUrl is read per request; point it at the bound port.
  runtime.config.publicBaseUrl = baseUrl;
  await runtime.startBackground();
  return {
    runtime,
    clock,
    baseUrl,
    dataDir,
    async newClient(scopes = ['read_only', 'read_write', 'admin', 'legal']) {
      const c = await createClient(runtime.deps.db, { name: `test ${randomBytes(3).toString('hex')}`, scopes });
      return { clientId: c.clientId, clientSecret: c.clientSecret };
    },
    async token(client, scope) {
      const r = await fetch(`${baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: client.clientId,
          client_secret: client.clientSecret,
          ...(scope ? { scope } : {}),
        }),
      });
      if (r.status !== 200) throw new Error(`token: ${r.status} ${await r.text()}`);
      return ((await r.json()) as { access_token: string }).access_token;
    },
    async settle() {
      for (let i = 0; i < 3; i++) {
        await runtime.jobs.idle();
        await runtime.webhooks.idle();
      }
    },
    async close() {
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Tiny JSON HTTP helper: returns status, parsed body and headers. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const r = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body),
  });
  const text = await r.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text, headers: r.headers };
}
