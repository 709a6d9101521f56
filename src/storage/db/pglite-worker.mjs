// The embedded database's thread (see pglite-thread.ts). Plain JavaScript on purpose: a worker
// thread does not inherit the loader hooks that let the rest of kyclive run TypeScript as is.
// One PGlite instance; messages { id, op, ... } are answered with { id, ... } or { id, error }.
import { parentPort } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';
import { autoPrepared, preparedRunner, TextBytes } from './pglite-prepared.mjs';
import { PGLITE_START_PARAMS } from './pglite-settings.mjs';

// int8 ids and counts fit in a JS number for our ranges; pg's adapter does the same (pglite.ts).
const parsers = { [types.INT8]: (v) => Number(v), [types.NUMERIC]: (v) => v };
const ROLLBACK = Symbol('rollback');
const FIELDS = [
  'code',
  'detail',
  'hint',
  'constraint',
  'table',
  'column',
  'schema',
  'severity',
  'position',
  'where',
  'dataType',
];

let pg;
let prepared;
let queries;
const sqlByName = new Map();
/** A named statement's SQL, which comes with its first call only (pglite-thread.ts). */
function sqlOf(m) {
  if (m.sql !== undefined) sqlByName.set(m.name, m.sql);
  return sqlByName.get(m.name);
}
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

// Group commit for Db.preparedBatch (see ports.ts). Calls wait for the next turn of this thread's
// event loop, which delivers every message that arrived while a statement ran: those with the
// same statement and parameters then run as one, their JSON arrays joined in arrival order. A
// batch arrives as UTF-8 bytes whose buffer was transferred, not copied (pglite-thread.ts), and
// goes into the statement as they are: as a string it was copied on receipt, joined, flattened
// and encoded again, about 40 % of this thread's garbage under POST kycliveness load.
const MAX_JOINED_IDS = 1000;
const batches = [];
let batchesScheduled = false;
function scheduleBatches() {
  if (batchesScheduled || batches.length === 0) return;
  batchesScheduled = true;
  setImmediate(async () => {
    batchesScheduled = false;
    const first = batches[0];
    const key = JSON.stringify(first.params);
    let n = 1;
    let ids = first.ids.length;
    while (
      n < batches.length &&
      batches[n].name === first.name &&
      ids + batches[n].ids.length <= MAX_JOINED_IDS &&
      JSON.stringify(batches[n].params) === key
    ) {
      ids += batches[n].ids.length;
      n++;
    }
    await runJoined(batches.splice(0, n));
    scheduleBatches();
  });
}

const isBlank = (bytes) => bytes.every((b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d);

/** The calls' JSON arrays (UTF-8 bytes, `[` … `]`) joined into one, in call order. */
function joinArrays(calls) {
  if (calls.length === 1) return calls[0].batch;
  const inner = calls.map((c) => c.batch.subarray(1, c.batch.length - 1)).filter((b) => !isBlank(b));
  const out = new Uint8Array(2 + inner.reduce((n, b) => n + b.length, 0) + Math.max(0, inner.length - 1));
  let at = 0;
  out[at++] = 0x5b; // [
  inner.forEach((b, i) => {
    if (i > 0) out[at++] = 0x2c; // ,
    out.set(b, at);
    at += b.length;
  });
  out[at] = 0x5d; // ]
  return out;
}

async function runJoined(calls) {
  const { name, sql, params } = calls[0];
  let r;
  try {
    r = await prepared(name, sql, [new TextBytes(joinArrays(calls)), ...params]);
  } catch (e) {
    if (calls.length === 1) return reply(calls[0].id, { error: errorOf(e) });
    // so that a call fails for its own rows only
    for (const c of calls) await runJoined([c]);
    return;
  }
  const owner = new Map();
  for (const c of calls) for (const id of c.ids) owner.set(id, c);
  const rows = new Map(calls.map((c) => [c, []]));
  for (const row of r.rows) rows.get(owner.get(row.id))?.push(row);
  for (const c of calls) reply(c.id, { rows: rows.get(c), affectedRows: 0 });
}

parentPort.on('message', async (m) => {
  try {
    switch (m.op) {
      case 'open':
        pg = await PGlite.create({ dataDir: m.dataDir, parsers, startParams: PGLITE_START_PARAMS });
        prepared = preparedRunner(pg);
        queries = autoPrepared(pg, prepared);
        return reply(m.id, {});
      case 'query': {
        const r = m.tx
          ? await queries.inTransaction(target(m.tx), m.sql, m.params)
          : await queries.query(m.sql, m.params);
        return reply(m.id, { rows: r.rows, affectedRows: r.affectedRows });
      }
      case 'prepared': {
        const r = await prepared(m.name, sqlOf(m), m.params);
        return reply(m.id, { rows: r.rows, affectedRows: r.affectedRows });
      }
      case 'batch':
        // the message is ours: a spread followed by a property would be allocated in the old
        // generation (initiate-batcher.ts, submit)
        m.sql = sqlOf(m);
        batches.push(m);
        scheduleBatches();
        return;
      case 'exec':
        await target(m.tx).exec(m.sql);
        return reply(m.id, {});
      case 'begin': {
        // PGlite's own transaction(): its mutex makes plain queries wait until the transaction ends,
        // exactly as in-process (pglite.ts); the callback stays open until the caller sends 'end'
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
