/**
 * Benchmark server process: a real kyclive (embedded PGlite by default, PostgreSQL with
 * DATABASE_URL) in its own process, so the load generator does not share its event loop. Answers
 * IPC commands from bench/api/run.ts to set up data and enqueue webhook events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/config.ts';
import { createRuntime } from '../../src/main/compose.ts';
import { createClient } from '../../src/app/clients/create-client.ts';
import { emitEvent } from '../../src/app/outbox.ts';
import { runMaintenance } from '../../src/storage/db/maintenance.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'kyclive-bench-'));
const config = loadConfig(
  {
    KYCLIVE_ANALYZER: 'sandbox',
    ...process.env,
    KYCLIVE_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    KYCLIVE_DEMO_CLIENT: '0',
  },
  { secret: randomBytes(32), blobEncryptionKey: randomBytes(32) },
);
if (config.databaseUrl) config.webhooks.allowLoopback = true;
const rt = await createRuntime(config, {});
// --server-latency (run.ts): each POST kycliveness's time from its first hook to its response's
// end, as the server sees it. It leaves out the time a request waits on its socket before the
// event loop reads it, and the load generator's own delays, which the client's p99 includes.
const serverLatencies: number[] = [];
if (process.env.KYCLIVE_BENCH_SERVER_LATENCY === '1') {
  rt.app.addHook('onResponse', (req, reply, done) => {
    if (req.method === 'POST' && req.routeOptions.url === '/v1/users/:userId/kycliveness')
      serverLatencies.push(reply.elapsedTime);
    done();
  });
}
await rt.app.listen({ port: 0, host: '127.0.0.1' });
await rt.startBackground();
const port = (rt.app.server.address() as AddressInfo).port;

process.on('message', async (m: any) => {
  try {
    if (m.cmd === 'setup') {
      const c = await createClient(rt.deps.db, {
        name: 'bench',
        scopes: ['read_only', 'read_write', 'admin', 'legal'],
      });
      process.send!({ id: m.id, ok: true, clientId: c.clientId, clientSecret: c.clientSecret });
    } else if (m.cmd === 'users') {
      // Users in bulk, straight into the table: creating tens of thousands through the API would
      // take longer than the run that uses them.
      const ids: number[] = [];
      for (let from = 0; from < m.n; from += 5000) {
        const fields = Array.from({ length: Math.min(5000, m.n - from) }, (_, i) => ({
          firstname: 'Bench',
          lastname: `User${from + i}`,
          birthday: '1990-01-01',
          email: `b${from + i}@example.com`,
        }));
        const r = await rt.deps.db.query<{ id: number }>(
          'insert into users (client_id, fields) select $1, f from unnest($2::jsonb[]) as x(f) returning id',
          [m.clientId, fields.map((f) => JSON.stringify(f))],
        );
        ids.push(...r.rows.map((x) => x.id));
      }
      // What the embedded autovacuum would do within 10 s: statistics for the grown table.
      if (rt.deps.db.kind === 'pglite') await runMaintenance(rt.deps.db, new Date());
      else await rt.deps.db.query('analyze users');
      process.send!({ id: m.id, ok: true, userIds: ids });
    } else if (m.cmd === 'cpu') {
      // CPU time of this process, all its threads (the embedded database's included), in µs
      const u = process.cpuUsage();
      process.send!({ id: m.id, ok: true, micros: u.user + u.system });
    } else if (m.cmd === 'enqueue') {
      await rt.deps.db.transaction(async (tx) => {
        for (let i = 0; i < m.n; i++) {
          await emitEvent(
            tx,
            {
              clientId: m.clientId,
              name: 'bench.ping',
              object: 'bench',
              objectId: String(i),
              payload: { i, sentAt: Date.now() },
            },
            new Date(),
          );
        }
      });
      rt.deps.wake.webhooks();
      process.send!({ id: m.id, ok: true });
    } else if (m.cmd === 'latency') {
      // percentiles of the requests answered since the last call
      const s = serverLatencies.splice(0).sort((a, b) => a - b);
      const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
      process.send!({ id: m.id, ok: true, count: s.length, p50: at(0.5), p99: at(0.99) });
    } else if (m.cmd === 'close') {
      await shutdown();
      process.send!({ id: m.id, ok: true });
      process.exit(0);
    }
  } catch (e) {
    process.send!({ id: m.id, ok: false, error: String(e) });
  }
});
// The data directory holds a gigabyte after a few runs: it goes with the process, also when
// run.ts ends without asking: an error closes the IPC channel, ^C signals the whole group.
let closing: Promise<void> | undefined;
function shutdown(): Promise<void> {
  closing ??= rt.close().finally(() => rmSync(dataDir, { recursive: true, force: true }));
  return closing;
}
for (const ev of ['disconnect', 'SIGINT', 'SIGTERM'] as const)
  process.on(ev, () => {
    shutdown().finally(() => process.exit(0));
  });
process.send!({ ready: true, port });
