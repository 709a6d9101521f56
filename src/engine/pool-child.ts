/**
 * One engine process of the pool (pool.ts): loads the models once, then runs session parts sent by
 * the parent over the IPC channel (advanced serialisation: Buffers and typed arrays cross as is).
 * Messages are plain data; media are passed as file paths the parent has staged.
 */
import { createEngine, type Engine } from './engine.ts';
import type { PoolRequest, PoolReply } from './pool.ts';

const send = (m: PoolReply) => process.send!(m);
let engine: Engine | undefined;
const running = new Map<number, AbortController>();

process.on('message', (m: PoolRequest) => {
  if (m.type === 'init') {
    createEngine(m.config).then(
      (e) => {
        engine = e;
        send({ type: 'ready', info: e.info });
      },
      (err: Error) => {
        send({ type: 'failed', message: err.message });
        process.exit(1);
      },
    );
  } else if (m.type === 'part') {
    const ac = new AbortController();
    running.set(m.id, ac);
    engine!
      .analyzePart(m.kind, m.input, ac.signal)
      .then(
        (result) => send({ type: 'done', id: m.id, result }),
        (err: Error) => send({ type: 'error', id: m.id, message: err.message }),
      )
      .finally(() => running.delete(m.id));
  } else if (m.type === 'cancel') {
    running.get(m.id)?.abort();
  }
});
// the parent going away (crash, kill -9) must not leave an orphan holding 500 MB of models
process.on('disconnect', () => process.exit(0));
