/**
 * Embedded PostgreSQL (PGlite) in its own thread. PGlite runs WASM on the thread that calls it:
 * in-process (pglite.ts) it took about half of the HTTP server's event loop under load. Here the
 * database work runs beside the event loop on the second core, behind the same Db port; every call
 * is one message each way (structured clone: Dates and byte arrays cross as they are).
 * Transactions keep PGlite's semantics: plain queries wait while one is open.
 */
import { Worker } from 'node:worker_threads';
import type { Db, Queryable, QueryResult } from '../../app/ports.ts';
import { pgliteResult } from './pglite-result.ts';

interface Reply {
  id: number;
  error?: { message: string; name: string; fields: Record<string, unknown> };
  rows?: unknown[];
  affectedRows?: number;
}

export async function openPgliteThread(dataDir?: string): Promise<Db> {
  const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url));
  const pending = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();
  let seq = 0;
  let dead: Error | undefined;
  const failAll = (e: Error) => {
    dead = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(Object.assign(new Error(m.error.message), { name: m.error.name }, m.error.fields));
    else p.resolve(m);
  });
  worker.on('error', (e) => failAll(e));
  worker.on('exit', (code) => failAll(new Error(`the embedded database thread exited (${code})`)));
  const call = (msg: Record<string, unknown>, transfer?: ArrayBuffer[]) =>
    new Promise<Reply>((resolve, reject) => {
      if (dead) {
        reject(dead);
        return;
      }
      const id = ++seq;
      pending.set(id, { resolve, reject });
      // msg is the caller's own literal: setting id beats `{ ...msg, id }`, which V8 allocates in the
      // old generation (initiate-batcher.ts, submit)
      msg.id = id;
      worker.postMessage(msg, transfer);
    });
  const utf8 = new TextEncoder();
  try {
    await call({ op: 'open', dataDir });
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  const on = (tx?: number): Queryable => ({
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      return pgliteResult<T>(await call({ op: 'query', tx, sql, params }));
    },
    async exec(sql: string) {
      await call({ op: 'exec', tx, sql });
    },
  });
  let txSeq = 0;
  const plain = on();
  // The thread keeps each named statement's SQL: it is sent again only when it changes. POST
  // kycliveness's is 3.5 kB, which was copied on both sides of every flush.
  const sentSql = new Map<string, string>();
  const unlessSent = (name: string, sql: string): string | undefined => {
    if (sentSql.get(name) === sql) return undefined;
    sentSql.set(name, sql);
    return sql;
  };
  return {
    kind: 'pglite',
    query: plain.query,
    exec: plain.exec,
    async prepared<T>(name: string, sql: string, params: unknown[]): Promise<QueryResult<T>> {
      return pgliteResult<T>(await call({ op: 'prepared', name, sql: unlessSent(name, sql), params }));
    },
    async preparedBatch<T extends { id: string }>(
      name: string,
      sql: string,
      batch: string,
      ids: readonly string[],
      params: unknown[],
    ): Promise<QueryResult<T>> {
      // the thread joins batches by their text: a JSON array, nothing around it
      if (!batch.startsWith('[') || !batch.endsWith(']'))
        throw new Error('preparedBatch: the batch must be a JSON array');
      // As bytes in a buffer of their own, which the message hands over instead of copying.
      const bytes = utf8.encode(batch);
      return pgliteResult<T>(
        await call({ op: 'batch', name, sql: unlessSent(name, sql), batch: bytes, ids, params }, [
          bytes.buffer as ArrayBuffer,
        ]),
      );
    },
    async transaction(fn) {
      const tx = ++txSeq;
      await call({ op: 'begin', tx });
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await fn(on(tx));
      } catch (e) {
        await call({ op: 'end', tx, commit: false }).catch(() => undefined);
        throw e;
      }
      await call({ op: 'end', tx, commit: true });
      return result;
    },
    async close() {
      try {
        await call({ op: 'close' });
      } finally {
        await worker.terminate();
      }
    },
  };
}
