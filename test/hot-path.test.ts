import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

// The modules every POST or GET kycliveness and every webhook delivery runs through.
const HOT_PATH = [
  'src/api/app.ts', 'src/api/auth.ts', 'src/api/idempotency.ts', 'src/api/error-handler.ts', 'src/api/routes/kycliveness.ts',
  'src/app/clients/authenticate.ts', 'src/app/verifications/initiate-verification.ts', 'src/app/verifications/initiate-batcher.ts',
  'src/app/verifications/get-latest-verification.ts', 'src/app/verifications/kycliveness-payload.ts',
  'src/storage/db/pglite-thread.ts', 'src/storage/db/pglite-worker.mjs', 'src/storage/db/pglite-prepared.mjs', 'src/storage/db/pglite-result.ts',
  'src/storage/db/postgres.ts', 'src/webhooks/dispatcher.ts', 'src/webhooks/deliver.ts', 'src/webhooks/signing.ts',
];

// Node 20's V8 (11.3) allocates an object literal that starts with a spread and goes on with more
// properties, `{ ...x, y }`, in the old generation: it is garbage only a major collection frees.
// One per POST kycliveness (initiate-batcher.ts, submit) was 95 % of the event loop's promoted
// memory under load and a major collection every ~3 s, each pausing every request in flight for
// 8-17 ms. `{ y, ...x }`, Object.assign and a literal written out are allocated young.
const SPREAD_THEN_MORE = /\{\s*\.\.\.[\w.$]+\s*,\s*[\w$'"[]/;

test('hot path: no object literal that starts with a spread and goes on', () => {
  const root = new URL('..', import.meta.url);
  const found: string[] = [];
  for (const file of HOT_PATH) {
    readFileSync(new URL(file, root), 'utf8').split('\n').forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '').replace(/`[^`]*`/g, '``');
      if (SPREAD_THEN_MORE.test(code)) found.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, []);
});

test('hot path: the pattern is recognised where it was', () => {
  for (const bad of ['queue.push({ ...req, resolve, reject, rounds: 0 });', 'worker.postMessage({ ...msg, id }, transfer);', "return { ...payload, 'expires-at': x };"]) {
    assert.ok(SPREAD_THEN_MORE.test(bad), bad);
  }
  for (const fine of ['reply(m.id, { id, ...body });', 'const { a, ...rest } = x;', 'f({ ...x })']) assert.ok(!SPREAD_THEN_MORE.test(fine), fine);
});
