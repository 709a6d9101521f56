/**
 * npm run bench:api — POST kycliveness throughput and p99 latency at 50 connections (re-initiation,
 * one user for every call, first verification), each beside a bare Fastify route measured right
 * before it, then webhook delivery throughput (burst) and enqueue-to-receipt latency (steady
 * 500/s). Numbers, not assertions: compare the ratios.
 * Options: --duration SECONDS (default 6); --repeat N (default 3) measures each workload N times,
 * each beside its own bare-route measurement, and reports the median ratio; --server-latency adds
 * the p50 / p99 the server itself measures (one more hook on its requests); --warmup SECONDS
 * (default 1, 0 for none) of the same workload before each measured run, reported apart;
 * --only WORD for the workloads whose name contains WORD (re-initiation, one user, first);
 * --no-webhooks to stop after POST kycliveness; DATABASE_URL=postgres://… to bench PostgreSQL.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';

const option = (name: string) =>
  process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : NaN;
const duration = option('--duration') || 6;
// This machine's speed drifts by a third from one run to the next (bare route 14 000-31 000 req/s
// within minutes): one pair of runs can land on either side of a target that the median of several
// pairs clears or misses steadily. So the default is the method the numbers in docs/benchmarks.md
// have used since session 9, three pairs of 6 s and their medians.
const repeat = Math.max(1, Math.floor(option('--repeat') || 3));
const serverLatency = process.argv.includes('--server-latency');
// Each measured run follows the bare route's, during which kyclive sat idle: its first ~100 ms are a
// cold start (the client's cached state and the statement's plan have lapsed, caches are cold, 50
// connections open at once), which made up to half of a 6 s run's slowest 1 %. The steady state is
// measured after a warm-up of the same workload; the warm-up's own p99, the cold start, is shown.
const warmup = Number.isNaN(option('--warmup')) ? 1 : Math.max(0, option('--warmup'));
const here = new URL('.', import.meta.url).pathname;

function start(file: string): Promise<{ child: ChildProcess; port: number; call: (m: object) => Promise<any> }> {
  const child = fork(`${here}${file}`, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...(serverLatency ? { KYCLIVE_BENCH_SERVER_LATENCY: '1' } : {}) },
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

function load(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon(opts, (err, res) => (err ? reject(err) : resolve(res))));
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const bare = await start('bare-child.ts');
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
const users: string[] = [];
for (let i = 0; i < 500; i++) {
  const r = (await (
    await fetch(`${base}/v1/users`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        userTypeId: 1,
        specifiedUSPerson: 0,
        email: `b${i}@example.com`,
        firstname: 'Bench',
        lastname: `User${i}`,
        birthday: '1990-01-01',
      }),
    })
  ).json()) as any;
  users.push(r.users[0].userId);
}

console.log(
  `# kyclive API benchmark (${duration} s per run after a ${warmup} s warm-up, 50 connections, database: ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`,
);
// The bare route is measured right before each workload, and each ratio is taken against that
// measurement: this machine's speed drifts within a minute (bare routes of 14 000 and 28 000 req/s
// in consecutive runs), and one bare measurement at the start made the later ratios follow the drift.
const bareOpts = {
  url: `http://127.0.0.1:${bare.port}/bare`,
  method: 'POST' as const,
  connections: 50,
  duration,
  body: '{}',
  headers: { 'content-type': 'application/json' },
};
await load({ ...bareOpts, duration: 2 });
// Three workloads. Re-initiation: 500 users in turn, so every call supersedes the user's previous
// verification (an update beside each insert). One user: every call for the same user. First verification: each call is
// for a user without one, the common case of an onboarding flow; those users are inserted in bulk
// beforehand (the API would take longer than the run).
/** POST kycliveness for the user `user()` picks at each call. */
const kycliveness = (user: () => number | string, secs = duration) =>
  load({
    url: base,
    connections: 50,
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
const inTurn = () => users[n++ % users.length];
await kycliveness(inTurn, 2);
let fresh: number[] = [];
let f = 0;
const workloads = [
  { name: 're-initiation (supersedes)', user: inTurn },
  // One user for every call: an integrator's retry loop, or a load test written against one user.
  // Each call supersedes the previous one; those arriving together share a statement.
  { name: 'one user for every call', user: () => users[0] },
  {
    name: 'first verification',
    user: () => fresh[f++ % fresh.length],
    // inserted when this workload comes, as they always were
    prepare: async () => {
      fresh = (await kyc.call({ cmd: 'users', n: 12_000 * (duration + warmup) * repeat, clientId: creds.clientId }))
        .userIds;
    },
  },
];
// --only WORD measures just the workloads whose name contains it (e.g. --only first).
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (only) workloads.splice(0, workloads.length, ...workloads.filter((w) => w.name.includes(only)));
if (workloads.length === 0) {
  console.error(`--only ${only}: no workload's name contains it`);
  process.exit(2);
}
type Pair = {
  r: autocannon.Result;
  b: autocannon.Result;
  warm?: autocannon.Result;
  server?: { p50: number; p99: number };
};
const pairs = new Map<string, Pair[]>(workloads.map((w) => [w.name, []]));
// Workload by workload, and run by run: re-initiation runs first, as before, and each run's ratio
// is taken against the bare route measured right before it.
for (const w of workloads) {
  await w.prepare?.();
  for (let i = 0; i < repeat; i++) {
    const b = await load(bareOpts);
    const warm = warmup > 0 ? await kycliveness(w.user, warmup) : undefined;
    if (serverLatency) await kyc.call({ cmd: 'latency' }); // drop what came before this run
    const r = await kycliveness(w.user);
    pairs.get(w.name)!.push({ b, r, warm, server: serverLatency ? await kyc.call({ cmd: 'latency' }) : undefined });
  }
}
const row = (name: string, r: autocannon.Result) =>
  `| ${name} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx} | ${r.errors} |`;
const ratioOf = ({ r, b }: Pair) => r.requests.average / b.requests.average;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pctStr = (x: number) => `${(x * 100).toFixed(1)}%`;
console.log(
  '\n| route | req/s | p50 ms | p99 ms | non-2xx | errors | bare route just before, req/s | ratio | cold start: warm-up p99 ms |\n|---|---|---|---|---|---|---|---|---|',
);
for (const w of workloads) {
  for (const pr of pairs.get(w.name)!)
    console.log(
      `${row(`POST /v1/users/{id}/kycliveness, ${w.name}`, pr.r)} ${Math.round(pr.b.requests.average)} | ${pctStr(ratioOf(pr))} | ${pr.warm ? pr.warm.latency.p99 : '-'} |`,
    );
}
if (serverLatency) {
  console.log('\n| POST kycliveness, as the server measures it | p50 ms | p99 ms | client p99 ms |\n|---|---|---|---|');
  for (const w of workloads)
    for (const pr of pairs.get(w.name)!)
      console.log(`| ${w.name} | ${pr.server!.p50.toFixed(1)} | ${pr.server!.p99.toFixed(1)} | ${pr.r.latency.p99} |`);
}
console.log('\n| bare Fastify POST | req/s | p50 ms | p99 ms | non-2xx | errors |\n|---|---|---|---|---|---|');
for (const w of workloads) for (const pr of pairs.get(w.name)!) console.log(row('bare Fastify POST', pr.b));
const summary = (key: (p: Pair) => number, fmt: (x: number) => string) =>
  workloads.map((w) => fmt(median(pairs.get(w.name)!.map(key)))).join(' / ');
console.log(
  `\nPOST kycliveness / bare${repeat > 1 ? `, median of ${repeat} runs` : ''} = ${summary(ratioOf, pctStr)} (${workloads.map((w) => w.name.replace(/ \(.*\)$/, '')).join(' / ')}; target ≥ 25%); p99 ${summary((p) => p.r.latency.p99, String)} ms (target ≤ 20 ms)`,
);
if (f > fresh.length)
  console.log(
    `(first verification: ${f} requests for ${fresh.length} users, so the last ${f - fresh.length} were re-initiations)`,
  );

async function finish(): Promise<never> {
  await bare.call({ cmd: 'close' }).catch(() => {});
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
// the rate counts from its commit, so that it measures delivery, not the writing of the events
// (which a real system spreads over 5 000 state changes). The time to write them is shown apart.
const BURST = 5000;
const t0 = Date.now();
await kyc.call({ cmd: 'enqueue', n: BURST, clientId: creds.clientId });
const committed = Date.now();
await waitFor(BURST);
const burstRate = BURST / ((lastAt - committed) / 1000);
latencies.length = 0;
received = 0;

const RATE = 500;
const steadyMs = duration * 1000;
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
console.log(`| steady ${RATE}/s for ${duration} s: delivered | ${received}/${sent} |`);
console.log(`| steady: enqueue-to-receipt p50 / p99 ms | ${pct(latencies, 50)} / ${pct(latencies, 99)} |`);
console.log(`\n(targets: ≥ 500 deliveries/s, p99 ≤ 200 ms)`);

receiver.close();
await finish();
