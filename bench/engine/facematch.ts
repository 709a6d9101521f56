/**
 * Face-match benchmark on the corpus pairs: Human's faceres embedding (cosine) vs face-api's 128-d
 * recognition model (euclidean distance). Prints per-pair scores and, for each matcher, the
 * accuracy at its published operating point. Usage: tsx bench/engine/facematch.ts
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { loadHuman, cosine } from '../../src/engine/models/human.ts';
import { mediaDir, loadLabels } from './corpus.ts';

const require = createRequire(import.meta.url);
const dir = mediaDir();
if (!dir) { console.log('corpus not found (set KYCLIVE_MEDIA_DIR): skipped'); process.exit(0); }
const labels = loadLabels(dir);
const human = await loadHuman();
// face-api shares the tfjs-core instance (and its wasm backend) with Human
const faceapiPath = join(dirname(require.resolve('@vladmandic/face-api')), 'face-api.node-wasm.js');
const faceapi = require(faceapiPath);
await faceapi.nets.faceRecognitionNet.loadFromDisk(join(dirname(require.resolve('@vladmandic/face-api')), '..', 'model'));
const tf = faceapi.tf;

type Emb = { human: number[]; faceapi: number[] } | null;
const cache = new Map<string, Emb>();
async function embed(file: string): Promise<Emb> {
  if (cache.has(file)) return cache.get(file)!;
  const { data, info } = await sharp(join(dir!, file)).rotate().resize({ width: 1280, height: 1280, fit: 'inside', withoutEnlargement: true }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const frame = { data, width: info.width, height: info.height, t: 0, index: 0 };
  const faces = (await human.detect(frame, true)).filter((f) => f.embedding?.length).sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
  const f = faces[0];
  if (!f) { cache.set(file, null); return null; }
  // face-api descriptor from a square crop around Human's box (10 % margin), 150x150
  const [x, y, w, h] = f.box; const s = Math.max(w, h) * 1.1; const cx = x + w / 2; const cy = y + h / 2;
  const left = Math.max(0, Math.round(cx - s / 2)); const top = Math.max(0, Math.round(cy - s / 2));
  const side = Math.min(Math.round(s), info.width - left, info.height - top);
  const crop = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).extract({ left, top, width: side, height: side }).resize(150, 150).raw().toBuffer();
  const t = tf.tensor3d(new Uint8Array(crop), [150, 150, 3], 'int32');
  const d = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(t);
  t.dispose();
  const e = { human: f.embedding!, faceapi: Array.from(d as Float32Array) };
  cache.set(file, e);
  return e;
}

const rows: { a: string; b: string; same: boolean; human: number | null; faceapi: number | null }[] = [];
for (const p of labels.pairs) {
  const [ea, eb] = [await embed(p.a), await embed(p.b)];
  const h = ea && eb ? cosine(ea.human, eb.human) : null;
  const fa = ea && eb ? Math.hypot(...ea.faceapi.map((v, i) => v - eb.faceapi[i])) : null;
  rows.push({ a: p.a, b: p.b, same: p.same, human: h, faceapi: fa });
}
console.log('pair | same | human cosine | face-api distance');
for (const r of rows) console.log(`${r.a.split('/')[1]} ~ ${r.b.split('/')[1]} | ${r.same} | ${r.human?.toFixed(3) ?? 'no face'} | ${r.faceapi?.toFixed(3) ?? 'no face'}`);
const evalAt = (name: string, score: (r: typeof rows[0]) => number | null, accept: (v: number) => boolean) => {
  const same = rows.filter((r) => r.same); const diff = rows.filter((r) => !r.same);
  const ta = same.filter((r) => { const v = score(r); return v !== null && accept(v); }).length;
  const fa = diff.filter((r) => { const v = score(r); return v !== null && accept(v); }).length;
  console.log(`${name}: true accepts ${ta}/${same.length}, false accepts ${fa}/${diff.length}`);
};
const hs = (r: typeof rows[0]) => r.human; const fs = (r: typeof rows[0]) => r.faceapi;
for (const t of [0.3, 0.35, 0.4, 0.45, 0.5]) evalAt(`human cosine >= ${t}`, hs, (v) => v >= t);
for (const t of [0.4, 0.45, 0.5, 0.55, 0.6]) evalAt(`face-api distance < ${t}`, fs, (v) => v < t);
