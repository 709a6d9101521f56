/** A real HTTP webhook receiver on loopback that keeps every raw body it gets. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  rawBody: string;
  headers: Record<string, string | string[] | undefined>;
  at: number;
}

export async function startReceiver(respond: (r: Received, n: number) => number = () => 200) {
  const received: Received[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const r = { rawBody: Buffer.concat(chunks).toString('utf8'), headers: req.headers, at: Date.now() };
      const status = respond(r, n++);
      if (status >= 200 && status < 300) received.push(r);
      res.writeHead(status).end(status < 300 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    url,
    received,
    attempts: () => n,
    /** Parsed envelopes of the accepted deliveries, by event name. */
    events(name?: string) {
      return received.map((r) => JSON.parse(r.rawBody)).filter((e) => !name || e.webhook === name);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
