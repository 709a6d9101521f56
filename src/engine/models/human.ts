/**
 * @vladmandic/human on the tfjs WASM backend, loaded by file path (dist/human.node-wasm.js) with a
 * file:// model loader so everything runs offline. One instance per engine (no module state); a
 * model that fails to load is a thrown error, never a neutral score. Frame caching (skipFrames,
 * cacheSensitivity) is switched off: every frame is analysed for real.
 *
 * The face descriptor of the full pass is not Human's `faceres` (unaligned box crop, no published
 * operating point): it is the face matcher of `face/match.ts` (dlib ResNet-34 via face-api on a chip
 * aligned from Human's mesh), loaded here so every consumer of `detect(frame, true)` gets it.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RgbFrame } from '../decode.ts';
import { registerFileLoader } from './tfjs-file-loader.ts';
import { faceDistance, loadFaceMatcher } from '../face/match.ts';

const require = createRequire(import.meta.url);

export interface HumanPoint {
  0: number;
  1: number;
  2?: number;
  length: number;
}

export interface HumanFace {
  score: number;
  boxScore: number;
  faceScore: number;
  box: [number, number, number, number];
  mesh: number[][];
  rotation?: { angle: { roll: number; yaw: number; pitch: number } };
  /** Full pass only: 128-d face descriptor (face/match.ts), compared by euclidean distance. */
  embedding?: number[];
  real?: number;
  live?: number;
  iris?: number;
}

export interface HumanModels {
  /** Full face analysis of one frame; `full` adds the face descriptor (face/match.ts), antispoof and liveness (slower). */
  detect(frame: RgbFrame, full: boolean): Promise<HumanFace[]>;
  /** Euclidean distance between two descriptors (face/match.ts; lower = closer). */
  distance(a: ArrayLike<number>, b: ArrayLike<number>): number;
  versions: { name: string; version: string }[];
  dispose(): Promise<void>;
}

/** Cosine similarity (kept for benchmarks of Human's own embeddings). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

export function humanPaths(
  modelsDir?: string,
  wasmDir?: string,
): { humanJs: string; modelsDir: string; wasmDir: string } {
  const main = require.resolve('@vladmandic/human'); // .../dist/human.node.js (exports map hides other paths)
  const humanJs = join(dirname(main), 'human.node-wasm.js');
  const mdir = modelsDir ?? join(dirname(main), '..', 'models');
  const wdir = wasmDir ?? dirname(require.resolve('@tensorflow/tfjs-backend-wasm')).replace(/\/dist(\/.*)?$/, '/dist');
  return { humanJs, modelsDir: mdir, wasmDir: wdir };
}

const REQUIRED = ['blazeface', 'facemesh', 'antispoof', 'liveness'] as const;

interface HumanInstance {
  version: string;
  tf: {
    tensor3d(d: Uint8Array, s: number[], dt: string): { dispose(): void };
    getBackend(): string;
    version_core: string;
    io: unknown;
    engine(): { memory(): { numTensors: number } };
  };
  models: { models: Record<string, unknown> };
  load(): Promise<void>;
  detect(input: unknown, cfg?: unknown): Promise<{ face: HumanFace[]; error?: string | null }>;
  config: unknown;
}

export async function loadHuman(
  opts: { modelsDir?: string; wasmDir?: string; faceApiModelsDir?: string } = {},
): Promise<HumanModels> {
  const p = humanPaths(opts.modelsDir, opts.wasmDir);
  for (const m of REQUIRED) {
    const f = join(p.modelsDir, `${m}.json`);
    if (!existsSync(f)) throw new Error(`engine: Human model missing: ${f}`);
  }
  if (!existsSync(join(p.wasmDir, 'tfjs-backend-wasm.wasm')))
    throw new Error(`engine: tfjs wasm binary missing in ${p.wasmDir}`);
  const H = require(p.humanJs) as { Human: new (cfg: unknown) => HumanInstance };
  const off = { skipFrames: 0, skipTime: 0 };
  const base = {
    backend: 'wasm',
    wasmPath: p.wasmDir.endsWith('/') ? p.wasmDir : p.wasmDir + '/',
    modelBasePath: pathToFileURL(p.modelsDir).href + '/',
    debug: false,
    async: false,
    warmup: 'none',
    cacheSensitivity: 0,
    cacheModels: false,
    validateModels: true,
    filter: { enabled: false },
    gesture: { enabled: false },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    segmentation: { enabled: false },
    face: {
      enabled: true,
      detector: {
        ...off,
        enabled: true,
        rotation: false,
        maxDetected: 3,
        minConfidence: 0.3,
        iouThreshold: 0.1,
        return: false,
        square: false,
      },
      mesh: { enabled: true, keepInvalid: false },
      attention: { enabled: false },
      iris: { ...off, enabled: false },
      emotion: { enabled: false },
      description: { enabled: false }, // faceres: replaced by the face matcher (face/match.ts)
      antispoof: { ...off, enabled: true },
      liveness: { ...off, enabled: true },
      gear: { enabled: false },
    },
  };
  const human = new H.Human(base);
  registerFileLoader(
    human.tf as unknown as { io: { registerLoadRouter(r: (url: string | string[]) => unknown): void } },
  );
  await human.load();
  for (const m of REQUIRED) {
    if (!human.models.models[m]) throw new Error(`engine: Human model '${m}' failed to load from ${p.modelsDir}`);
  }
  if (human.tf.getBackend() !== 'wasm')
    throw new Error(`engine: expected tfjs wasm backend, got ${human.tf.getBackend()}`);
  const matcher = await loadFaceMatcher({ modelsDir: opts.faceApiModelsDir });
  const fast = { face: { antispoof: { enabled: false }, liveness: { enabled: false } } };
  const full = { face: { antispoof: { enabled: true }, liveness: { enabled: true } } };
  return {
    versions: [
      { name: '@vladmandic/human', version: human.version },
      { name: '@tensorflow/tfjs-core (wasm backend)', version: human.tf.version_core },
      ...REQUIRED.map((m) => ({ name: `human/${m}`, version: human.version })),
      ...matcher.versions,
    ],
    async detect(frame, wantFull) {
      const t = human.tf.tensor3d(
        new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength),
        [frame.height, frame.width, 3],
        'int32',
      );
      try {
        const r = await human.detect(t, wantFull ? full : fast);
        if (r.error) throw new Error(`engine: Human detect failed: ${r.error}`);
        if (wantFull) {
          for (const f of r.face) {
            f.embedding = f.mesh && f.mesh.length >= 468 ? await matcher.describe(frame, f.mesh) : undefined;
          }
        }
        return r.face;
      } finally {
        t.dispose();
      }
    },
    distance: faceDistance,
    async dispose() {
      /* tfjs WASM memory is process-wide; the process owns it. */
    },
  };
}
