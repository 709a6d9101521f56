/**
 * A pool of engine processes behind the `Analyzer` port. The models are single-threaded WASM, so
 * parallelism means processes; and the two halves of a session (face video, document media) are
 * independent, so the pool runs them as two tasks that go to whichever processes are free: a lone
 * session uses both cores (about half the wall time), several sessions keep every process busy.
 * The verdict is assembled in the calling process, which loads no model and whose event loop (an
 * HTTP server in embedded mode) is never blocked by pixel work.
 *
 * A part that throws inside a child ends the session as an internal failure (1901), like the
 * in-process engine. A child that dies (OOM, kill) rejects the session's promise instead, so the job
 * queue retries it; the pool replaces the child.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AnalysisInput, AnalysisResult, Analyzer } from '../app/ports.ts';
import { assembleResult, type EngineInfo, type PartFailure } from './assemble.ts';
import { resolveEngineConfig, type EngineConfigInput } from './config.ts';
import type { DocumentPart, FacePart, PartInput } from './parts.ts';

type PartKind = 'face' | 'document';
export type PoolRequest =
  | { type: 'init'; config: EngineConfigInput }
  | { type: 'part'; id: number; kind: PartKind; input: PartInput }
  | { type: 'cancel'; id: number };
export type PoolReply =
  | { type: 'ready'; info: EngineInfo }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; result: FacePart | DocumentPart }
  | { type: 'error'; id: number; message: string };

interface Task {
  id: number;
  kind: PartKind;
  input: PartInput;
  resolve(r: FacePart | DocumentPart | PartFailure): void;
  reject(e: Error): void;
  signal?: AbortSignal;
}
interface Child {
  proc: ChildProcess;
  ready: Promise<EngineInfo>;
  isReady: boolean;
  busy?: Task;
}

export interface EnginePool extends Analyzer {
  readonly processes: number;
  /** Engine name, version and model versions, as reported by the first child. */
  readonly info: EngineInfo;
  /** Process ids of the children (tests, operations). */
  pids(): number[];
  close(): Promise<void>;
}

/** How long a cancelled part may take to stop before its process is killed. */
const CANCEL_GRACE_MS = 5_000;

const CHILD = fileURLToPath(new URL('./pool-child.ts', import.meta.url));
// tsx by absolute URL: a bare `--import tsx` would resolve from the caller's working directory
const TSX = import.meta.resolve('tsx');

/** Functions (e.g. `now`) cannot cross the process boundary; the parts never need them. */
function plainConfig(c: EngineConfigInput): EngineConfigInput {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => typeof v !== 'function')) as EngineConfigInput;
}

/**
 * Which waiting part starts next: the oldest of the tenant with the fewest parts running (queue in
 * arrival order). -1 when nothing waits.
 */
export function fairIndex(waitingTenants: readonly string[], running: ReadonlyMap<string, number>): number {
  let best = -1;
  let load = Number.POSITIVE_INFINITY;
  for (let i = 0; i < waitingTenants.length && load > 0; i++) {
    const n = running.get(waitingTenants[i]) ?? 0;
    if (n < load) {
      best = i;
      load = n;
    }
  }
  return best;
}

export async function createEnginePool(opts: { processes: number; config?: EngineConfigInput }): Promise<EnginePool> {
  if (!(opts.processes >= 1)) throw new Error('engine pool: processes must be >= 1');
  const config = opts.config ?? {};
  const cfg = resolveEngineConfig(config);
  const queue: Task[] = [];
  const children: Child[] = [];
  let nextId = 1;
  let closed = false;

  const spawnChild = (): Child => {
    // tsx is the project's runtime loader: the child runs the TypeScript sources like the parent
    const proc = fork(CHILD, [], {
      execArgv: ['--import', TSX],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const child = { proc, isReady: false } as Child;
    child.ready = new Promise<EngineInfo>((resolve, reject) => {
      proc.on('message', (m: PoolReply) => {
        if (m.type === 'ready') {
          child.isReady = true;
          resolve(m.info);
          pump();
        } else if (m.type === 'failed') reject(new Error(m.message));
        else if (child.busy?.id === m.id) {
          const t = child.busy;
          child.busy = undefined;
          ended(t);
          t.resolve(m.type === 'done' ? m.result : { error: m.message });
          pump();
        }
      });
      proc.on('exit', (code, sig) => {
        reject(new Error(`engine process exited during start (${sig ?? code})`));
        const i = children.indexOf(child);
        if (i >= 0) children.splice(i, 1);
        if (child.busy) {
          ended(child.busy);
          child.busy.reject(new Error(`engine process ${proc.pid} exited (${sig ?? code}) during analysis`));
          child.busy = undefined;
        }
        // replace a child that crashed after a good start; one that cannot start would only crash again
        if (!closed && child.isReady) {
          const c = spawnChild();
          children.push(c);
          c.ready.catch(failQueue);
        } else if (!children.some((c) => c.isReady)) failQueue(new Error('no engine process available'));
      });
    });
    child.ready.catch(() => undefined);
    proc.send({ type: 'init', config: plainConfig(config) } satisfies PoolRequest);
    return child;
  };
  const failQueue = (e: Error) => {
    for (const t of queue.splice(0)) t.reject(e);
  };

  // Parts running per tenant: the next part to start is the oldest of the tenant with the fewest
  // running, so that a tenant's sessions cannot keep another tenant's waiting behind them.
  const running = new Map<string, number>();
  const tenantOf = (t: Task) => t.input.tenant ?? '';
  const next = (): Task | undefined => {
    const i = fairIndex(queue.map(tenantOf), running);
    return i < 0 ? undefined : queue.splice(i, 1)[0];
  };
  const started = (t: Task) => running.set(tenantOf(t), (running.get(tenantOf(t)) ?? 0) + 1);
  const ended = (t: Task) => {
    const n = (running.get(tenantOf(t)) ?? 1) - 1;
    if (n > 0) running.set(tenantOf(t), n);
    else running.delete(tenantOf(t));
  };

  const pump = () => {
    for (const child of children) {
      if (!child.isReady || child.busy) continue;
      // a part whose session was aborted while it waited is not worth a process
      let t = next();
      while (t?.signal?.aborted) {
        t.resolve({ error: 'analysis aborted' });
        t = next();
      }
      if (!t) return;
      started(t);
      child.busy = t;
      child.proc.send({ type: 'part', id: t.id, kind: t.kind, input: t.input } satisfies PoolRequest);
      t.signal?.addEventListener(
        'abort',
        () => {
          if (child.busy !== t) return;
          child.proc.send({ type: 'cancel', id: t.id } satisfies PoolRequest);
          // the child checks for cancellation between frames; one stuck inside a model is killed
          // (its exit rejects the task, and the pool replaces it)
          setTimeout(() => {
            if (child.busy === t) child.proc.kill('SIGKILL');
          }, CANCEL_GRACE_MS).unref();
        },
        { once: true },
      );
    }
  };

  for (let i = 0; i < opts.processes; i++) children.push(spawnChild());
  let info: EngineInfo;
  try {
    info = (await Promise.all(children.map((c) => c.ready)))[0];
  } catch (e) {
    closed = true;
    for (const c of children) c.proc.kill('SIGKILL');
    throw e;
  }

  const runPart = (kind: PartKind, input: PartInput, signal?: AbortSignal) =>
    new Promise<FacePart | DocumentPart | PartFailure>((resolve, reject) => {
      if (closed) {
        reject(new Error('engine pool closed'));
        return;
      }
      queue.push({ id: nextId++, kind, input, resolve, reject, signal });
      pump();
    });

  return {
    name: info.name,
    processes: opts.processes,
    info,
    concurrency: opts.processes,
    pids: () => children.map((c) => c.proc.pid!).filter(Boolean),
    async analyze(input: AnalysisInput): Promise<AnalysisResult> {
      const startedAt = performance.now();
      const { signal, ...plain } = input;
      const [face, doc] = await Promise.all([runPart('face', plain, signal), runPart('document', plain, signal)]);
      if (signal?.aborted) throw new Error('analysis aborted');
      return assembleResult(cfg, info, plain, face as FacePart | PartFailure, doc as DocumentPart | PartFailure, {
        startedAt,
      });
    },
    async close() {
      closed = true;
      failQueue(new Error('engine pool closed'));
      // in-flight parts finish (graceful shutdown waits for jobs before closing the analyzer)
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.proc.exitCode !== null) {
                resolve();
                return;
              }
              c.proc.once('exit', () => resolve());
              c.proc.disconnect();
            }),
        ),
      );
    },
  };
}
