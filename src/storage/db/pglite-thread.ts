/**
 * Embedded PostgreSQL (PGlite) in its own thread. PGlite runs WASM on the thread that calls it:
 * in process (pglite.ts) every query would run on the HTTP server's event loop. Here the database
 * work runs beside the event loop, on the second core, behind the same Db port; every call is one
 * message each way (structured clone: Dates and byte arrays cross as they are). Transactions keep
 * PGlite's semantics: plain queries wait while one is open.
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
  const call = (msg: Record<string, unknown>) =>
    new Promise<Reply>((resolve, reject) => {
      if (dead) {
        reject(dead);
        return;
      }
      const id = ++seq;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id });
    });
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
  return {
    kind: 'pglite',
    query: plain.query,
    exec: plain.exec,
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
