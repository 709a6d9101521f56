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
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** @param {import('@electric-sql/pglite').PGlite} pg */
export function preparedRunner(pg, { replanAfterMs = 2000, now = () => performance.now() } = {}) {
  const statements = new Map(); // name → { sql, types, at }
  return function prepared(name, sql, params = []) {
    // The same two locks as PGlite's own query(): it waits while a transaction is open.
    return pg._runExclusiveTransaction(() => pg._runExclusiveQuery(async () => {
      let st = statements.get(name);
      if (st && (st.sql !== sql || now() - st.at >= replanAfterMs)) {
        statements.delete(name);
        await pg.execProtocol(concat(serialize.close({ type: 'S', name }), serialize.sync()));
        st = undefined;
      }
      if (!st) {
        const r = await pg.execProtocol(concat(serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync()));
        st = { sql, types: parse.parseDescribeStatementResults(r.messages), at: now() };
        statements.set(name, st);
      }
      // Serialised as query() does: the type's serializer, else the text form.
      const values = params.map((v, i) => (v === null || v === undefined ? null : (pg.serializers[st.types[i]] ?? String)(v)));
      const r = await pg.execProtocol(concat(
        serialize.bind({ statement: name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync(),
      ));
      const [res] = parse.parseResults(r.messages, pg.parsers);
      return { rows: res?.rows ?? [], affectedRows: res?.affectedRows ?? 0 };
    }));
  };
}
