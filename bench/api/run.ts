/**
 * npm run bench:api — what an integrator and an operator feel of the API: POST kycliveness at a fixed
 * rate (default 500 requests/s for 60 s over 50 connections), its latency tail and errors, and the CPU
 * time each request costs (the server process, its embedded database thread included, plus the
 * PostgreSQL server's processes when DATABASE_URL is set); then webhook delivery (a burst, and a steady
 * 500/s with its enqueue-to-receipt latency). Numbers, not assertions.
 *
 * Options: --rate N (500), --duration S (60), --warmup S (10, at the same rate, not counted),
 * --connections N (50), --only WORD (workloads whose name contains it: first, re-initiation, one user),
 * --no-webhooks. DATABASE_URL=postgres://… measures PostgreSQL.
 *
 * Targets (issue 17): p99 ≤ 50 ms in every run with 0 errors; webhooks ≥ 500 deliveries/s, p99 ≤ 200 ms.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const num = (name: string, dflt: number) => (arg(name) === undefined ? dflt : Number(arg(name)));
const rate = num('--rate', 500);
const duration = num('--duration', 60);
const warmup = num('--warmup', 10);
const connections = num('--connections', 50);
const only = arg('--only');
const here = new URL('.', import.meta.url).pathname;
const postgres = !!process.env.DATABASE_URL;

function start(file: string): Promise<{ child: ChildProcess; port: number; call: (m: object) => Promise<any> }> {
  const child = fork(`${here}${file}`, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, KYCLIVE_BENCH_SERVER_LATENCY: '1' },
  });
  let seq = 0;
  const waiting = new Map<number, (v: any) => void>();
  return new Promise((resolve, reject) => {
    child.on('message', (m: any) => {
      if (m.ready)
        resolve({
          child,
          port: m.port,
          call: (msg) =>
            new Promise((res) => {
              const id = ++seq;
              waiting.set(id, res);
              child.send({ ...msg, id });
            }),
        });
      else if (m.id && waiting.has(m.id)) {
        waiting.get(m.id)!(m);
        waiting.delete(m.id);
      }
    });
    child.on('exit', (code) => reject(new Error(`${file} exited ${code}`)));
  });
}

/** CPU time (µs) of the PostgreSQL server's processes on this machine: what the database costs. */
function postgresCpuMicros(): number {
  if (!postgres) return 0;
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!name.startsWith('postgres')) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += ((Number(f[11]) + Number(f[12])) * 1e6) / ticks; // utime, stime
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}

function load(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon(opts, (err, res) => (err ? reject(err) : resolve(res))));
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const kyc = await start('server-child.ts');
const base = `http://127.0.0.1:${kyc.port}`;
const creds = await kyc.call({ cmd: 'setup' });
const tok = (await (
  await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials',
      client_id: creds.clientId,
      client_secret: creds.clientSecret,
    }),
  })
).json()) as { access_token: string };
const auth = { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' };
const users: number[] = (await kyc.call({ cmd: 'users', n: 500, clientId: creds.clientId })).userIds;

console.log(
  `# kyclive API benchmark: POST kycliveness at ${rate} requests/s for ${duration} s after a ${warmup} s warm-up, ${connections} connections, database: ${postgres ? 'PostgreSQL' : 'PGlite (embedded)'}`,
);

/** POST kycliveness at the fixed rate, for the user `user()` picks at each call. */
const kycliveness = (user: () => number, secs: number) =>
  load({
    url: base,
    connections,
    overallRate: rate,
    duration: secs,
    headers: auth,
    requests: [
      {
        method: 'POST' as const,
        setupRequest: (req: any) => ({
          ...req,
          path: `/v1/users/${user()}/kycliveness`,
          body: '{"redirectUrl":"https://integrator.example/done"}',
        }),
      },
    ],
  });

let n = 0;
let fresh: number[] = [];
let f = 0;
const workloads = [
  // Each call for a user without a verification: the common case, one per onboarding.
  {
    name: 'first verification',
    user: () => fresh[f++ % fresh.length],
    prepare: async () => {
      fresh = (await kyc.call({ cmd: 'users', n: rate * (duration + warmup) + 1000, clientId: creds.clientId }))
        .userIds;
    },
  },
  // 500 users in turn: every call supersedes the user's previous verification.
  { name: 're-initiation (500 users in turn)', user: () => users[n++ % users.length] },
  // Every call for the same user: an integrator's retry loop, or a load test written against one user.
  { name: 'one user for every call', user: () => users[0] },
].filter((w) => !only || w.name.includes(only));
if (workloads.length === 0) {
  console.error(`--only ${only}: no workload's name contains it`);
  process.exit(2);
}

console.log(
  '\n| workload | req/s | p50 ms | p99 ms | p99.9 ms | max ms | server p99 ms | non-2xx | errors | CPU µs/request: server | database | warm-up p99 ms |\n|---|---|---|---|---|---|---|---|---|---|---|---|',
);
for (const w of workloads) {
  await w.prepare?.();
  const warm = warmup > 0 ? await kycliveness(w.user, warmup) : undefined;
  await kyc.call({ cmd: 'latency' });
  const cpu0 = (await kyc.call({ cmd: 'cpu' })).micros;
  const db0 = postgresCpuMicros();
  const r = await kycliveness(w.user, duration);
  const cpu = (await kyc.call({ cmd: 'cpu' })).micros - cpu0;
  const db = postgresCpuMicros() - db0;
  const server = await kyc.call({ cmd: 'latency' });
  const done = r.requests.total || 1;
  console.log(
    `| ${w.name} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${r.latency.p99_9} | ${r.latency.max} | ${server.p99?.toFixed(1)} | ${r.non2xx} | ${r.errors} | ${Math.round(cpu / done)} | ${postgres ? Math.round(db / done) : '(in the server)'} | ${warm ? warm.latency.p99 : '-'} |`,
  );
}

async function finish(): Promise<never> {
  await kyc.call({ cmd: 'close' }).catch(() => {});
  process.exit(0);
}
if (process.argv.includes('--no-webhooks')) await finish();

// Webhooks: a receiver in this process records enqueue-to-receipt from the payload's sentAt.
const latencies: number[] = [];
let received = 0;
let lastAt = 0;
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString());
    latencies.push(Date.now() - body.object_payload.sentAt);
    received++;
    lastAt = Date.now();
    res.end('ok');
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/h`;
await fetch(`${base}/settings/hooks`, { method: 'POST', headers: auth, body: JSON.stringify({ url: hookUrl }) });
const waitFor = async (count: number) => {
  const t0 = Date.now();
  while (received < count && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 20));
};

// The burst's events are written in one transaction, and none can be delivered before it commits:
// the rate counts from its commit, so that it measures delivery, not the writing of the events.
const BURST = 5000;
const t0 = Date.now();
await kyc.call({ cmd: 'enqueue', n: BURST, clientId: creds.clientId });
const committed = Date.now();
await waitFor(BURST);
const burstRate = BURST / ((lastAt - committed) / 1000);
latencies.length = 0;
received = 0;

const RATE = 500;
const steadyMs = Math.min(duration, 20) * 1000;
const start2 = Date.now();
let sent = 0;
while (Date.now() - start2 < steadyMs) {
  const due = Math.floor(((Date.now() - start2) / 1000) * RATE) - sent;
  if (due > 0) {
    await kyc.call({ cmd: 'enqueue', n: due, clientId: creds.clientId });
    sent += due;
  }
  await new Promise((r) => setTimeout(r, 20));
}
await waitFor(sent);
console.log('\n| webhooks | value |\n|---|---|');
console.log(`| burst of ${BURST}: deliveries/s after their commit | ${Math.round(burstRate)} |`);
console.log(`| burst: writing the ${BURST} events and their deliveries, s | ${((committed - t0) / 1000).toFixed(1)} |`);
console.log(`| steady ${RATE}/s for ${steadyMs / 1000} s: delivered | ${received}/${sent} |`);
console.log(`| steady: enqueue-to-receipt p50 / p99 ms | ${pct(latencies, 50)} / ${pct(latencies, 99)} |`);
console.log('\n(targets: POST kycliveness p99 ≤ 50 ms and 0 errors; webhooks ≥ 500 deliveries/s, p99 ≤ 200 ms)');

receiver.close();
await finish();
