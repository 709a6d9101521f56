#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ (or the files/folders given) with Node's own test
// runner through tsx. Node 20's --test takes no globs, so we list the files here.
// Files run one at a time: PGlite and the models each take hundreds of MB and the machine has 2 cores.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const targets = args.length ? args : ['src', 'test'];

function collect(p, out) {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st) return;
  if (st.isFile()) {
    if (p.endsWith('.test.ts')) out.push(p);
    return;
  }
  for (const name of readdirSync(p).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    collect(join(p, name), out);
  }
}
const files = [];
for (const t of targets) collect(join(root, t), files);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// The whole suite (no arguments) starts with the typecheck: a type error fails CI like a test.
if (args.length === 0) {
  const biome = spawnSync(process.execPath, [join(root, 'node_modules/@biomejs/biome/bin/biome'), 'ci', root], {
    stdio: 'inherit',
  });
  if (biome.status !== 0) {
    console.error('format or lint check failed: run `npm run format` (and fix what `npm run lint` reports)');
    process.exit(biome.status ?? 1);
  }
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root], {
    stdio: 'inherit',
  });
  if (tsc.status !== 0) {
    console.error('typecheck failed');
    process.exit(tsc.status ?? 1);
  }
}

const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    ...files.map((f) => relative(process.cwd(), f)),
  ],
  { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: '' } },
);
process.exit(r.status ?? 1);
