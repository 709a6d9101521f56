import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliverWebhook, type DeliveryRequest } from './deliver.ts';

interface Seen {
  method?: string;
  url?: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const seen: Seen[] = [];
let connections = 0;
let base = '';

const server = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => {
    body += c;
  });
  req.on('end', () => {
    seen.push({ method: req.method, url: req.url, headers: req.headers, body });
    switch (req.url) {
      case '/ok':
        res.end('thanks');
        break;
      case '/fail':
        res.writeHead(500).end('x'.repeat(5000));
        break;
      case '/redirect':
        res.writeHead(302, { Location: '/elsewhere' }).end();
        break;
      case '/hang':
        break; // never answers
      case '/slow-body':
        res.writeHead(200);
        res.write('partial');
        break; // never ends
      default:
        res.writeHead(404).end();
    }
  });
});
server.on('connection', () => {
  connections++;
});

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const LOCAL = { allowPrivate: false, allowLoopback: true, allowHttp: false };
const send = (path: string, extra: Partial<DeliveryRequest> = {}) =>
  deliverWebhook({
    url: base + path,
    body: '{"webhook":"kycliveness.update"}',
    headers: { 'Kyclive-Signature': 't=1,v1=ab' },
    timeoutMs: 2000,
    policy: LOCAL,
    ...extra,
  });

test('POSTs the body with our headers and reports a 2xx as ok', async () => {
  seen.length = 0;
  const r = await send('/ok');
  assert.equal(r.ok, true);
  assert.equal(r.status, 200);
  assert.equal(r.responseSnippet, 'thanks');
  assert.ok(r.durationMs >= 0);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].method, 'POST');
  assert.equal(seen[0].body, '{"webhook":"kycliveness.update"}');
  assert.equal(seen[0].headers['content-type'], 'application/json');
  assert.equal(seen[0].headers['user-agent'], 'kyclive-webhooks/1');
  assert.equal(seen[0].headers['kyclive-signature'], 't=1,v1=ab');
});

test('reports a 500 with the first KiB of its body', async () => {
  const r = await send('/fail');
  assert.equal(r.ok, false);
  assert.equal(r.status, 500);
  assert.equal(r.responseSnippet, 'x'.repeat(1024));
  assert.equal(r.networkError, undefined);
});

test('does not follow a redirect', async () => {
  seen.length = 0;
  const r = await send('/redirect');
  assert.equal(r.ok, false);
  assert.equal(r.status, 302);
  assert.match(r.error ?? '', /redirect to \/elsewhere not followed/);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(
    seen.map((s) => s.url),
    ['/redirect'],
  );
});

test('times out a receiver that never answers', async () => {
  const r = await send('/hang', { timeoutMs: 150 });
  assert.equal(r.ok, false);
  assert.equal(r.timedOut, true);
  assert.equal(r.status, undefined);
  assert.ok(r.durationMs >= 140 && r.durationMs < 1000, String(r.durationMs));
});

test('keeps the status when only the body is slow', async () => {
  const r = await send('/slow-body', { timeoutMs: 150 });
  assert.equal(r.ok, true);
  assert.equal(r.status, 200);
  assert.equal(r.responseSnippet, 'partial');
  assert.match(r.error ?? '', /body timed out/);
});

test('refuses a loopback or private URL without sending anything', async () => {
  seen.length = 0;
  const strict = { allowPrivate: false, allowLoopback: false, allowHttp: true };
  const r = await send('/ok', { policy: strict });
  assert.equal(r.ok, false);
  assert.equal(r.status, undefined);
  assert.match(r.error ?? '', /^refused: .*loopback/);
  const p = await deliverWebhook({
    url: 'http://10.0.0.1/hook',
    body: '{}',
    headers: {},
    timeoutMs: 500,
    policy: strict,
  });
  assert.match(p.error ?? '', /^refused: .*private/);
  assert.equal(seen.length, 0);
});

test('connects to the addresses the guard checked instead of resolving again', async () => {
  seen.length = 0;
  const port = new URL(base).port;
  const r = await send('/ok', { url: `http://receiver.test:${port}/ok`, resolve: async () => ['127.0.0.1'] });
  assert.equal(r.status, 200);
  assert.equal(seen[0].headers.host, `receiver.test:${port}`);
});

test('reports an unresolvable host as a network error, so it is retried', async () => {
  const r = await send('/ok', {
    url: 'http://receiver.test/ok',
    resolve: async () => {
      throw new Error('ENOTFOUND');
    },
  });
  assert.equal(r.ok, false);
  assert.equal(r.networkError, true);
  assert.match(r.error ?? '', /could not be resolved/);
});

test('reports a refused connection as a network error', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const r = await deliverWebhook({
    url: `http://127.0.0.1:${port}/`,
    body: '{}',
    headers: {},
    timeoutMs: 1000,
    policy: LOCAL,
  });
  assert.equal(r.ok, false);
  assert.equal(r.networkError, true);
  assert.match(r.error ?? '', /ECONNREFUSED/);
});

test('reuses kept-alive connections under concurrent load', async (t) => {
  // Let sockets from earlier tests (some destroyed on timeout) settle before counting.
  await send('/ok');
  const before = connections;
  const total = 1000;
  const concurrency = 50;
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        // A generous timeout: this checks connection reuse, and a cold, busy CI machine can stall a connect.
        const r = await send('/ok', { timeoutMs: 15_000 });
        assert.equal(r.status, 200, JSON.stringify(r));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(
    `${total} deliveries in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)}/s over ${connections - before} new connections`,
  );
  assert.ok(connections - before <= concurrency, `${connections - before} new connections`);
});
