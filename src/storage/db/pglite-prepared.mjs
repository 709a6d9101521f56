// Named prepared statements on PGlite, which its API does not offer: query() parses, describes
// and plans the SQL on every call, in six separate trips into the WASM engine. Here a statement is
// parsed once per name, and each call sends bind, describe, execute and sync as one protocol
// message. Planning alone was 0.6 ms of the 2.3 ms that POST kycliveness's statement took on a
// batch of 25. Plain JavaScript, shared by the worker thread (pglite-worker.mjs) and the
// in-process adapter (pglite.ts).
//
// A statement is parsed again once it is `replanAfterMs` old (2 s). PostgreSQL keeps a statement's
// plan until something invalidates it, in practice autovacuum's VACUUM or ANALYZE of a table it
// reads; PGlite has no autovacuum, and the embedded one (maintenance.ts) passes every 10 s and may
// find nothing due. A plan made on small tables then outlives them: in bench:api, after 96 000
// users were inserted, POST kycliveness's statement kept hashing the whole users table and each
// flush took 30 ms instead of 4. A new parse costs a few custom plans, about 3 ms every 2 s, and
// the planner sizes every table from its current length.
import { protocol, parse } from '@electric-sql/pglite';

const { serialize } = protocol;

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// Bind, describe, execute and sync of one call, encoded into one buffer that every call reuses.
// PGlite's serializer grows a fresh buffer by steps and copies it on each flush: about six copies
// of every parameter, 48 kB of ArrayBuffers for POST kycliveness's 8 kB batch. Under load that
// churn set off a full garbage collection of the database thread every half second ("external
// memory pressure"), each pausing it 2-10 ms. Reusing the buffer is safe because PGlite consumes
// its input synchronously, before execProtocol's promise is even returned.
const DESCRIBE_EXECUTE_SYNC = Uint8Array.from([
  0x44,
  0,
  0,
  0,
  6,
  0x50,
  0, // Describe the unnamed portal
  0x45,
  0,
  0,
  0,
  9,
  0,
  0,
  0,
  0,
  0, // Execute it, all rows
  0x53,
  0,
  0,
  0,
  4, // Sync
]);
let out = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * A parameter already encoded as UTF-8 text: sent as it is, without a JavaScript string on the way.
 * The database thread receives POST kycliveness's batches this way (pglite-thread.ts), transferred
 * rather than copied, and joins them byte by byte (pglite-worker.mjs).
 */
export class TextBytes {
  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    this.bytes = bytes;
  }
}

const textOf = (v) =>
  v instanceof TextBytes ? Buffer.from(v.bytes.buffer, v.bytes.byteOffset, v.bytes.byteLength).toString('utf8') : v;

/** @param {string} name @param {(string | TextBytes | null)[]} values text-format values */
function encodeBindExecute(name, values) {
  let size = 1 + 4 + 1 + Buffer.byteLength(name) + 1 + 2 + 2 + 2;
  for (const v of values) size += 4 + (v === null ? 0 : v instanceof TextBytes ? v.bytes.length : Buffer.byteLength(v));
  if (out.length < size + DESCRIBE_EXECUTE_SYNC.length)
    out = Buffer.allocUnsafeSlow(Math.max(size + DESCRIBE_EXECUTE_SYNC.length, out.length * 2));
  let at = 0;
  out[at++] = 0x42; // Bind
  out.writeInt32BE(size - 1, at);
  at += 4;
  out[at++] = 0; // unnamed portal
  at += out.write(name, at);
  out[at++] = 0;
  out.writeInt16BE(0, at);
  at += 2; // every parameter in text format
  out.writeInt16BE(values.length, at);
  at += 2;
  for (const v of values) {
    if (v === null) {
      out.writeInt32BE(-1, at);
      at += 4;
      continue;
    }
    if (v instanceof TextBytes) {
      out.set(v.bytes, at + 4);
      out.writeInt32BE(v.bytes.length, at);
      at += 4 + v.bytes.length;
      continue;
    }
    const n = out.write(v, at + 4);
    out.writeInt32BE(n, at);
    at += 4 + n;
  }
  out.writeInt16BE(0, at);
  at += 2; // every result column in text format
  out.set(DESCRIBE_EXECUTE_SYNC, at);
  at += DESCRIBE_EXECUTE_SYNC.length;
  return out.subarray(0, at);
}

/** @param {import('@electric-sql/pglite').PGlite} pg */
export function preparedRunner(pg, { replanAfterMs = 2000, now = () => performance.now() } = {}) {
  const statements = new Map(); // name → { sql, types, at }
  // Outside a transaction, the same two locks as PGlite's own query(): it waits while a transaction
  // is open. Inside PGlite's transaction(), which holds the first, the second only, as its tx.query().
  const outside = (fn) => pg._runExclusiveTransaction(() => pg._runExclusiveQuery(fn));
  const inside = (fn) => pg._runExclusiveQuery(fn);
  /** Forgets a statement here and in the database; the caller holds the locks. */
  const forget = async (name) => {
    if (!statements.delete(name)) return;
    await pg.execProtocol(concat(serialize.close({ type: 'S', name }), serialize.sync()));
  };
  const closeWith = (lock, name) => lock(() => forget(name));
  const withRetry =
    (lock) =>
    (name, sql, params = []) =>
      run(lock, name, sql, params).catch(async (e) => {
        // PostgreSQL refuses to run a cached statement whose result columns a migration has since
        // changed (a `select *` over an altered table): parse it again, once. Inside a transaction the
        // error has already aborted it, so the statement is only marked for the next call.
        if (e?.code !== '0A000' || !statements.has(name)) throw e;
        if (lock === inside) {
          statements.get(name).at = -Infinity;
          throw e;
        }
        await closeWith(lock, name);
        return run(lock, name, sql, params);
      });
  const prepared = withRetry(outside);
  /** The same, called inside PGlite's transaction() (from its callback). */
  prepared.inTransaction = withRetry(inside);
  /** Forgets a statement, here and in the database (outside a transaction). */
  prepared.close = (name) => closeWith(outside, name);
  return prepared;

  function run(lock, name, sql, params) {
    return lock(async () => {
      let st = statements.get(name);
      if (st && (st.sql !== sql || now() - st.at >= replanAfterMs)) {
        await forget(name);
        st = undefined;
      }
      if (!st) {
        const r = await pg.execProtocol(
          concat(serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync()),
        );
        st = { sql, types: parse.parseDescribeStatementResults(r.messages), at: now() };
        statements.set(name, st);
      }
      // Serialised as query() does: the type's serializer, else the text form.
      const values = params.map((v, i) =>
        v === null || v === undefined ? null : v instanceof TextBytes ? v : (pg.serializers[st.types[i]] ?? String)(v),
      );
      // Every serializer kyclive meets returns text (bytea as \x hex); anything else, such as
      // bytes, takes PGlite's own serializer, which knows how to flag it.
      const r = await pg.execProtocol(
        values.every((v) => v === null || typeof v === 'string' || v instanceof TextBytes)
          ? encodeBindExecute(name, values)
          : concat(
              serialize.bind({ statement: name, values: values.map(textOf) }),
              serialize.describe({ type: 'P' }),
              serialize.execute({}),
              serialize.sync(),
            ),
      );
      const [res] = parse.parseResults(r.messages, pg.parsers);
      return { rows: res?.rows ?? [], affectedRows: res?.affectedRows ?? 0 };
    });
  }
}

// Plain queries on PGlite, through named statements too. PGlite's query() parses, describes and
// plans its SQL on every call: the two queries of GET kycliveness took about 0.45 ms each, against
// tens of µs for a prepared statement. Only the statements that plan (select, insert, update,
// delete, with); utility statements (vacuum, analyze, DDL) keep PGlite's path.
const PLANNABLE = /^\s*(select|insert|update|delete|with)\b/i;
const MAX_AUTO_STATEMENTS = 200;

/**
 * @param {import('@electric-sql/pglite').PGlite} pg
 * @param {ReturnType<typeof preparedRunner>} prepared
 */
export function autoPrepared(pg, prepared, { maxStatements = MAX_AUTO_STATEMENTS } = {}) {
  const names = new Map(); // sql → statement name, least recently used first
  let next = 0;
  function nameOf(sql) {
    let name = names.get(sql);
    if (name) names.delete(sql);
    else {
      name = `auto_${++next}`;
      // SQL built with varying text (a patch's column list) must not grow the cache for ever.
      if (names.size >= maxStatements) {
        const [oldSql, oldName] = names.entries().next().value;
        names.delete(oldSql);
        prepared.close(oldName).catch(() => {}); // queued behind the locks like any statement
      }
    }
    names.set(sql, name);
    return name;
  }
  return {
    /** A query outside a transaction. */
    query: (sql, params = []) => (PLANNABLE.test(sql) ? prepared(nameOf(sql), sql, params) : pg.query(sql, params)),
    /** A query inside PGlite's transaction() `tx`, from its callback. */
    inTransaction: (tx, sql, params = []) =>
      PLANNABLE.test(sql) ? prepared.inTransaction(nameOf(sql), sql, params) : tx.query(sql, params),
  };
}
