/**
 * The capture app's static files (Node side): the bundle from `build.ts`, and the face library and
 * models of the in-browser feedback, served from kyclive's own node_modules (no CDN). Each function
 * says what to answer (status, headers, body); the HTTP route only sends it.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { webAssets, type WebAssets } from './build.ts';

export interface AssetResponse {
  status: 200 | 304;
  headers: Record<string, string>;
  body?: Buffer | Readable;
}

/** What of the request decides the answer. */
export interface AssetRequest {
  /** The URL carries `?v=` (the hash the app shell links to): the answer never changes. */
  versioned: boolean;
  ifNoneMatch?: string;
  acceptEncoding?: string;
}

const acceptsGzip = (acceptEncoding: string | undefined) => /\bgzip\b/.test(acceptEncoding ?? '');

/** `app.js` or `style.css`, precompressed, revalidated by ETag, immutable when versioned. */
export async function bundleAsset(name: keyof WebAssets, req: AssetRequest): Promise<AssetResponse> {
  const a = (await webAssets())[name];
  const headers: Record<string, string> = {
    'Content-Type': a.type,
    ETag: `"${a.hash}"`,
    'X-Content-Type-Options': 'nosniff',
    Vary: 'Accept-Encoding',
    'Cache-Control': req.versioned ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
  if (req.ifNoneMatch === `"${a.hash}"`) return { status: 304, headers };
  if (acceptsGzip(req.acceptEncoding))
    return { status: 200, headers: { ...headers, 'Content-Encoding': 'gzip' }, body: a.gzip };
  return { status: 200, headers, body: a.body };
}

const HUMAN_DIR = new URL('../../node_modules/@vladmandic/human/', import.meta.url).pathname;
const HUMAN_FILES: Record<string, string> = { 'human.esm.js': 'dist/human.esm.js' };
const MODEL_TYPES: Record<string, string> = { '.json': 'application/json', '.bin': 'application/octet-stream' };
// The files do not change while the process runs: each is compressed once.
const HUMAN_GZIP = new Map<string, Buffer>();

/**
 * A file of @vladmandic/human under `/identification/assets/human/`: the library, or a model
 * (`models/<name>.json|bin`). Undefined for any other path.
 */
export function humanAsset(path: string, acceptEncoding: string | undefined): AssetResponse | undefined {
  let rel: string | undefined = HUMAN_FILES[path];
  if (!rel && /^models\/[a-z0-9-]+\.(json|bin)$/.test(path)) rel = path;
  const file = rel ? normalize(join(HUMAN_DIR, rel)) : '';
  if (!rel || !file.startsWith(HUMAN_DIR) || !existsSync(file)) return undefined;
  const headers: Record<string, string> = {
    'Content-Type': rel.endsWith('.js')
      ? 'text/javascript; charset=utf-8'
      : MODEL_TYPES[rel.slice(rel.lastIndexOf('.'))],
    'Cache-Control': 'public, max-age=86400',
    Vary: 'Accept-Encoding',
  };
  // The library is 2 MB of text (470 kB gzipped): worth compressing once for phones. Weights do not compress.
  if (!rel.endsWith('.bin') && acceptsGzip(acceptEncoding)) {
    let gz = HUMAN_GZIP.get(rel);
    if (!gz) {
      gz = gzipSync(readFileSync(file), { level: 9 });
      HUMAN_GZIP.set(rel, gz);
    }
    return { status: 200, headers: { ...headers, 'Content-Encoding': 'gzip' }, body: gz };
  }
  return { status: 200, headers, body: createReadStream(file) };
}
