/**
 * Fair dispatch (issue 25, item 8), on both databases: a tenant whose receiver hangs, with a backlog
 * of events, holds no more than its receiver's slots, and another tenant's webhook goes out while
 * the hanging requests are still open, not after they time out.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '../../src/app/clients/create-client.ts';
import { type AppDeps, silentLog } from '../../src/app/deps.ts';
import { emitEvent } from '../../src/app/outbox.ts';
import { type Db, systemClock } from '../../src/app/ports.ts';
import { migrate } from '../../src/storage/db/migrate.ts';
import { createDispatcher } from '../../src/webhooks/dispatcher.ts';
import { testDatabases } from '../helpers/databases.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

/** A receiver that accepts requests and never answers. */
async function hangingReceiver() {
  const open = new Set<IncomingMessage>();
  let total = 0;
  const server = createServer((req) => {
    open.add(req);
    total++;
    req.on('close', () => open.delete(req));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    open: () => open.size,
    total: () => total,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

for (const backend of await testDatabases()) {
  describe(`fair webhook dispatch on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Db;
    let drop: () => Promise<void>;
    before(async () => {
      const o = await backend.open();
      db = o.db;
      drop = o.drop;
      await migrate(db);
    });
    after(async () => {
      await db?.close();
      await drop?.();
    });

    test("a hanging receiver's backlog does not hold another tenant's webhook", async () => {
      const hanging = await hangingReceiver();
      const healthy = await startReceiver();
      const deps = { db, clock: systemClock, log: silentLog } as unknown as AppDeps;
      const d = createDispatcher(deps, {
        concurrency: 8,
        timeoutMs: 4000,
        idlePollMs: 25,
        policy: { allowLoopback: true, allowPrivate: false, allowHttp: true },
      });
      const subscribe = async (url: string) => {
        const c = await createClient(db, { name: `fair ${randomUUID().slice(0, 4)}`, scopes: ['admin'] });
        await db.query('insert into webhook_subscriptions (uuid, client_id, url, secret) values ($1, $2, $3, $4)', [
          randomUUID(),
          c.clientId,
          url,
          'whsec_fair',
        ]);
        return c.clientId;
      };
      const slow = await subscribe(hanging.url);
      const fast = await subscribe(healthy.url);
      try {
        // The slow tenant's 30 events are due first.
        const at = new Date();
        for (let i = 0; i < 30; i++)
          await emitEvent(
            db,
            { clientId: slow, name: 'test.flood', object: 'test', objectId: String(i), payload: { i } },
            at,
          );
        await emitEvent(
          db,
          { clientId: fast, name: 'test.ping', object: 'test', objectId: 'x', payload: {} },
          new Date(at.getTime() + 1),
        );
        d.start();
        while (healthy.received.length === 0) {
          // Before the fix, the hanging receiver held all 8 slots until their timeout.
          assert.equal(
            hanging.total() - hanging.open(),
            0,
            'the other tenant waited for the hanging requests to time out',
          );
          await sleep(10);
        }
        assert.ok(hanging.open() > 0, 'the hanging receiver has requests in flight');
        assert.ok(hanging.total() <= 2, `the hanging receiver holds ${hanging.total()} slots, its share is 2`);
      } finally {
        await hanging.close();
        await d.stop();
        await healthy.close();
      }
    });
  });
}
