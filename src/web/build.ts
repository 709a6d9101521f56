/**
 * Server-side (Node) bundler of the browser app: esbuild's JS API, in memory, once per process,
 * so `npm start` on a fresh clone serves the app with no build step. The bundle is precompressed
 * (gzip) and addressed by its hash, so browsers may cache it forever.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  hash: string;
}
export interface WebAssets {
  'app.js': Asset;
  'style.css': Asset;
}

const here = new URL('.', import.meta.url).pathname;
let cached: Promise<WebAssets> | undefined;

function asset(body: Buffer, type: string): Asset {
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    type,
    hash: createHash('sha256').update(body).digest('hex').slice(0, 16),
  };
}

async function compile(): Promise<WebAssets> {
  const r = await build({
    entryPoints: { app: `${here}main.ts`, style: `${here}style.css` },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    write: false,
    outdir: '/virtual',
    logLevel: 'silent',
    legalComments: 'none',
  });
  const get = (name: string) => Buffer.from(r.outputFiles.find((f) => f.path.endsWith(name))!.contents);
  return {
    'app.js': asset(get('/app.js'), 'text/javascript; charset=utf-8'),
    'style.css': asset(get('/style.css'), 'text/css; charset=utf-8'),
  };
}

export function webAssets(): Promise<WebAssets> {
  cached ??= compile().catch((e) => {
    cached = undefined;
    throw e;
  });
  return cached;
}
