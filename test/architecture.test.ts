/**
 * The map in ARCHITECTURE.md, checked: which folder may import which, SQL only in src/storage,
 * PGlite only behind the storage adapters, and no branch on the database kind outside them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('..', import.meta.url).pathname;
const SRC = join(ROOT, 'src');

/** Each folder of src/ and the folders it may import from (besides itself). Keep in step with ARCHITECTURE.md. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  domain: [],
  lib: ['domain'],
  config: ['domain', 'lib'],
  report: ['app/ports'],
  app: ['domain', 'lib', 'config', 'report', 'storage/db/repo'],
  'storage/db': ['app/ports', 'domain', 'lib'],
  'storage/blob': ['app/ports', 'domain', 'lib'],
  webhooks: ['app/ports', 'app/deps', 'domain', 'lib', 'storage/db/repo'],
  worker: ['app/ports', 'app/deps', 'app/jobs', 'lib', 'storage/db/repo'],
  engine: ['app/ports', 'domain', 'lib', 'report'],
  web: [],
  api: ['app', 'domain', 'lib', 'config', 'web'],
  sdk: ['webhooks/php-json', 'webhooks/signing'],
  main: ['*'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return /\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.test.ts') && !name.endsWith('.d.mts') ? [p] : [];
  });
}

/** The folder of MAY_IMPORT a src path belongs to (storage is split in db and blob). */
function folderOf(path: string): string {
  const parts = relative(SRC, path).split('/');
  return parts[0] === 'storage' ? `storage/${parts[1]}` : parts[0];
}

const allowed = (from: string, target: string) => {
  if (folderOf(target) === from) return true;
  const rel = relative(SRC, target).replace(/\.(ts|mts|mjs)$/, '');
  return MAY_IMPORT[from].some((a) => a === '*' || rel === a || rel.startsWith(`${a}/`));
};

const sources = files(SRC).map((path) => ({ path, text: readFileSync(path, 'utf8') }));

test('every import follows the dependency rule of ARCHITECTURE.md', () => {
  const violations: string[] = [];
  for (const { path, text } of sources) {
    const from = folderOf(path);
    assert.ok(MAY_IMPORT[from], `src/${from} is not in the map: add it to ARCHITECTURE.md and to MAY_IMPORT`);
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = normalize(join(dirname(path), m[1]));
      if (!target.startsWith(SRC)) continue;
      if (!allowed(from, target)) violations.push(`${relative(ROOT, path)} imports ${relative(ROOT, target)}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the rule check itself catches a violation', () => {
  assert.equal(allowed('domain', join(SRC, 'storage/db/repo/users.ts')), false);
  assert.equal(allowed('app', join(SRC, 'api/app.ts')), false);
  assert.equal(allowed('app', join(SRC, 'storage/db/postgres.ts')), false);
  assert.equal(allowed('app', join(SRC, 'storage/db/repo/users.ts')), true);
});

// SQL in a string: a statement keyword followed by what that statement needs.
const SQL =
  /['`"]\s*(select\s[\s\S]*?\sfrom\s|insert\s+into\s|update\s+\w+\s+set\s|delete\s+from\s|with\s+\w+\s+as\s*\()/i;

test('SQL lives in src/storage only', () => {
  const found = sources
    .filter(({ path }) => !relative(SRC, path).startsWith('storage/'))
    .filter(({ text }) => SQL.test(text))
    .map(({ path }) => relative(ROOT, path));
  assert.deepEqual(found, []);
  assert.ok(SQL.test("q.query('select id from users where id = $1')"), 'the pattern recognises SQL');
});

test('PGlite is used behind the storage adapters only, through its public API, and no use case branches on the database kind', () => {
  const misuse: string[] = [];
  for (const { path, text } of sources) {
    const rel = relative(SRC, path);
    if (!rel.startsWith('storage/db/') && /@electric-sql\/pglite/.test(text)) misuse.push(`${rel}: imports PGlite`);
    if (/@electric-sql\/pglite\/(?!dist\/[a-z]+\.js)[^']*'/.test(text))
      misuse.push(`${rel}: imports a PGlite internal`);
    if (/\.(execProtocol|execProtocolRaw|_[a-zA-Z]+)\(/.test(text) && rel.startsWith('storage/db/'))
      misuse.push(`${rel}: calls a private PGlite method`);
    // The composition root (main) knows which adapter it built; nothing between it and storage does.
    if (!/^(storage|main)\//.test(rel) && /\bdb\.kind\b|\.kind === 'p(glite|ostgres)'/.test(text))
      misuse.push(`${rel}: branches on the database kind`);
  }
  assert.deepEqual(misuse, []);
});
