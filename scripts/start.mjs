#!/usr/bin/env node
// `npm start` on a fresh clone: installs what is missing (node modules, Debian ffmpeg) and runs
// the whole service with the embedded defaults. Plain JavaScript: it runs before npm ci.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status === 0;
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

if (!existsSync(`${root}/node_modules/.package-lock.json`)) {
  console.log('installing node modules (npm ci)…');
  if (!run('npm', ['ci', '--no-audit', '--no-fund'])) process.exit(1);
}
// The engine decodes with ffmpeg/ffprobe and learns the MRZ glyphs from the OCR-B font.
const missing = [];
if (!has('ffmpeg') || !has('ffprobe')) missing.push('ffmpeg');
if (!existsSync('/usr/share/fonts/opentype/ocr-b/OCRB.otf')) missing.push('fonts-ocr-b');
if (missing.length) {
  console.log(`installing ${missing.join(' ')} (apt-get)…`);
  const sudo = process.getuid && process.getuid() === 0 ? [] : ['sudo'];
  const apt = (...a) => (sudo.length ? run('sudo', ['apt-get', ...a]) : run('apt-get', a));
  if (!(apt('update', '-qq') && apt('install', '-y', '-qq', ...missing))) {
    console.warn(
      `could not install ${missing.join(' ')}: the analysis engine needs them (KYCLIVE_ANALYZER=sandbox runs without).`,
    );
  }
}
// In-process (not a child) so that SIGTERM from npm or the supervisor reaches the server's graceful shutdown.
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/main/cli.ts');
await main(['serve']);
