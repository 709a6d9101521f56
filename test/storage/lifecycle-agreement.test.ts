/**
 * The storage functions that find what a transition may change (lockLive for supersede,
 * lockExpiryDue for expire) select exactly the verifications for which the pure domain transition
 * changes something: every stored state, with a lifetime over and not over, on both databases.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Db } from '../../src/app/ports.ts';
import { VERIFICATION_STATES } from '../../src/domain/verification/states.ts';
import { transition, type VerificationEvent } from '../../src/domain/verification/transitions.ts';
import { migrate } from '../../src/storage/db/migrate.ts';
import { lockExpiryDue, lockLive } from '../../src/storage/db/repo/verifications.ts';
import { testDatabases } from '../helpers/databases.ts';

const NOW = new Date('2026-12-07T12:00:00Z');
const LIFETIMES = { over: new Date(NOW.getTime() - 1000), open: new Date(NOW.getTime() + 3600_000) };

for (const backend of await testDatabases()) {
  describe(`verification lifecycle: domain and storage agree on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Db;
    let drop: () => Promise<void>;
    /** One user per (state, lifetime), holding that one verification. */
    const cases: { state: string; lifetime: keyof typeof LIFETIMES; userId: number; id: string }[] = [];
    before(async () => {
      const opened = await backend.open();
      db = opened.db;
      drop = opened.drop;
      await migrate(db);
      await db.query(`insert into clients (id, name, secret_hash, scopes) values ('agree', 'n', 'x', '{}')`);
      for (const state of VERIFICATION_STATES) {
        for (const lifetime of Object.keys(LIFETIMES) as (keyof typeof LIFETIMES)[]) {
          const userId = (await db.query<{ id: number }>(`insert into users (client_id) values ('agree') returning id`))
            .rows[0].id;
          const id = randomUUID();
          await db.query(
            `insert into verifications (id, client_id, user_id, method, state, capture_token_hash, redirect_url, expires_at, created_at)
             values ($1, 'agree', $2, 'liveness', $3, $4, 'https://x.example/', $5, $6)`,
            [id, userId, state, randomUUID(), LIFETIMES[lifetime], new Date(NOW.getTime() - 7200_000)],
          );
          cases.push({ state, lifetime, userId, id });
        }
      }
    });
    after(async () => {
      await db?.close();
      await drop?.();
    });

    const changes = (c: (typeof cases)[number], event: VerificationEvent) =>
      Object.keys(
        transition({ id: c.id, state: c.state as never, expiresAt: LIFETIMES[c.lifetime], startedAt: null }, event, NOW)
          .patch,
      ).length > 0;

    test('supersede: lockLive finds a verification exactly when the transition changes it', async () => {
      for (const c of cases) {
        const found = await db.transaction(async (tx) => (await lockLive(tx, 'agree', c.userId)).map((v) => v.id));
        assert.equal(
          found.includes(c.id),
          changes(c, { type: 'supersede', by: randomUUID() }),
          `${c.state}, ${c.lifetime}`,
        );
      }
    });

    test('expire: lockExpiryDue finds a verification exactly when the transition changes it', async () => {
      const due = new Set(await db.transaction(async (tx) => (await lockExpiryDue(tx, NOW, 1000)).map((v) => v.id)));
      for (const c of cases) {
        assert.equal(due.has(c.id), changes(c, { type: 'expire' }), `${c.state}, ${c.lifetime}`);
      }
    });
  });
}
