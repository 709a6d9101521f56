// The embedded database's thread (see pglite-thread.ts). Plain JavaScript on purpose: a worker
// thread does not inherit the loader hooks that let the rest of kyclive run TypeScript as is.
// One PGlite instance, used through its public API only; messages { id, op, ... } are answered
// with { id, ... } or { id, error }.
import { parentPort } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';
import { PGLITE_START_PARAMS } from './pglite-settings.mjs';

// int8 ids and counts fit in a JS number for our ranges; pg's adapter does the same (postgres.ts).
const parsers = { [types.INT8]: (v) => Number(v), [types.NUMERIC]: (v) => v };
const ROLLBACK = Symbol('rollback');
const FIELDS = ['code', 'detail', 'hint', 'constraint', 'table', 'column', 'schema', 'severity', 'position', 'where'];

let pg;
/** Open transactions: id → { tx, finish(commit), endId } */
const open = new Map();

const reply = (id, body) => parentPort.postMessage({ id, ...body });
const errorOf = (e) => ({
  message: e instanceof Error ? e.message : String(e),
  name: e instanceof Error ? e.name : 'Error',
  fields: Object.fromEntries(FIELDS.filter((k) => e && e[k] !== undefined).map((k) => [k, e[k]])),
});
const target = (tx) => {
  if (!tx) return pg;
  const t = open.get(tx);
  if (!t) throw new Error(`transaction ${tx} is not open`);
  return t.tx;
};

parentPort.on('message', async (m) => {
  try {
    switch (m.op) {
      case 'open':
        pg = await PGlite.create({ dataDir: m.dataDir, parsers, startParams: PGLITE_START_PARAMS });
        return reply(m.id, {});
      case 'query': {
        const r = await target(m.tx).query(m.sql, m.params);
        return reply(m.id, { rows: r.rows, affectedRows: r.affectedRows });
      }
      case 'exec':
        await target(m.tx).exec(m.sql);
        return reply(m.id, {});
      case 'begin': {
        // PGlite's own transaction(): its mutex makes plain queries wait until the transaction ends,
        // exactly as in process (pglite.ts); the callback stays open until the caller sends 'end'.
        let finish;
        const ended = new Promise((resolve) => {
          finish = resolve;
        });
        const t = { tx: null, finish, endId: 0 };
        let begun = false;
        pg.transaction(async (tx) => {
          t.tx = tx;
          open.set(m.tx, t);
          begun = true;
          reply(m.id, {});
          if (!(await ended)) throw ROLLBACK;
        })
          .then(
            () => reply(t.endId, {}),
            (e) =>
              begun ? reply(t.endId, e === ROLLBACK ? {} : { error: errorOf(e) }) : reply(m.id, { error: errorOf(e) }),
          )
          .finally(() => open.delete(m.tx));
        return;
      }
      case 'end': {
        const t = open.get(m.tx);
        if (!t) return reply(m.id, { error: errorOf(new Error(`transaction ${m.tx} is not open`)) });
        t.endId = m.id;
        t.finish(m.commit);
        return;
      }
      case 'close':
        await pg?.close();
        return reply(m.id, {});
      default:
        return reply(m.id, { error: errorOf(new Error(`unknown op ${m.op}`)) });
    }
  } catch (e) {
    reply(m.id, { error: errorOf(e) });
  }
});
