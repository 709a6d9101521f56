/**
 * Face matcher: dlib's ResNet-34 face-recognition network (128-d descriptor, as ported by
 * @vladmandic/face-api, `face_recognition_model`) on a dlib-style face chip aligned from Human's
 * 468-point mesh, compared by euclidean distance.
 *
 * The network was trained on dlib's `get_face_chip(…, size 150, padding 0.25)` chips: a similarity
 * transform mapping 5 landmarks (outer/inner corners of both eyes and the base of the nose) onto
 * dlib's canonical template. We reproduce exactly that chip from the mesh points that correspond to
 * dlib's 5 landmarks (263, 362, 33, 133, 2), so face-api's own detector/68-point landmarker are not
 * needed. Published operating point (dlib): two descriptors closer than 0.6 are the same person
 * (99.38 % on LFW).
 *
 * The loaded network belongs to the returned matcher (one per engine, no module-level state); a
 * missing weight file throws at load. Descriptor comparison and the match decision are pure
 * functions so they can run where the parts are assembled.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RgbFrame } from '../decode.ts';
import { similarity, warpSimilarity, type P2 } from './align.ts';

const require = createRequire(import.meta.url);

/** dlib's 5-point chip template on the unit square (dlib/image_transforms/interpolation.h, get_face_chip_details). */
export const DLIB_TEMPLATE_5: P2[] = [
  [0.8595674595992, 0.2134981538014],
  [0.6460604764104, 0.2289674387677],
  [0.1205750620789, 0.2137274526848],
  [0.3340850613712, 0.2290642403242],
  [0.4901123135679, 0.6277975316475],
];
/** Mesh indices matching dlib's 5 landmarks: subject's left eye outer/inner, right eye outer/inner, base of the nose. */
export const DLIB_MESH_POINTS = [263, 362, 33, 133, 2] as const;
export const CHIP_SIZE = 150;
export const CHIP_PADDING = 0.25;

export const FACE_MATCH_MODEL =
  'face-api face_recognition_model (dlib ResNet-34, 128-d), dlib 5-point chip 150 px from the Human mesh, euclidean distance';

/** The dlib face chip (RGB24, 150×150) for a face given by its 468-point mesh in frame pixels. */
export function dlibChip(
  frame: RgbFrame,
  mesh: ArrayLike<number>[],
  size = CHIP_SIZE,
  padding = CHIP_PADDING,
): Uint8Array {
  if (mesh.length < 468) throw new Error(`face match: mesh has ${mesh.length} points, 468 needed`);
  const src = DLIB_MESH_POINTS.map((i): P2 => [mesh[i][0], mesh[i][1]]);
  const dst = DLIB_TEMPLATE_5.map(
    ([x, y]): P2 => [((padding + x) / (2 * padding + 1)) * size, ((padding + y) / (2 * padding + 1)) * size],
  );
  return warpSimilarity(frame, similarity(src, dst), size);
}

export function faceDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`face match: descriptor lengths differ (${a.length} vs ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s);
}

export interface FaceMatchThresholds {
  faceMatchAcceptDistance: number;
  faceMatchRefuseDistance: number;
}

export interface FaceMatchDecision {
  /** Mean distance of the portrait to its 2 closest face frames (fewer when fewer frames were embedded). */
  distance: number;
  distances: number[];
  status: 'pass' | 'inconclusive' | 'fail';
}

/**
 * Document portrait vs the embedded face frames: the mean of the 2 smallest distances (one bad
 * frame cannot accept or refuse on its own); accept below `faceMatchAcceptDistance`, refuse from
 * `faceMatchRefuseDistance`, human review in between.
 */
export function decideFaceMatch(
  portrait: ArrayLike<number>,
  frames: ArrayLike<number>[],
  th: FaceMatchThresholds,
): FaceMatchDecision {
  if (!frames.length) throw new Error('face match: no face descriptor');
  const distances = frames.map((f) => faceDistance(portrait, f));
  const best = distances
    .slice()
    .sort((a, b) => a - b)
    .slice(0, 2);
  const distance = best.reduce((s, x) => s + x, 0) / best.length;
  const status =
    distance < th.faceMatchAcceptDistance ? 'pass' : distance >= th.faceMatchRefuseDistance ? 'fail' : 'inconclusive';
  return { distance, distances, status };
}

/** What the report and evidence carry about the face match. */
export interface FaceMatchSummary {
  distance: number;
  acceptBelow: number;
  refuseFrom: number;
  model: string;
}

export interface FaceMatcher {
  /** 128-d descriptor of the face whose 468-point mesh (frame pixels) is given. */
  describe(frame: RgbFrame, mesh: ArrayLike<number>[]): Promise<number[]>;
  versions: { name: string; version: string }[];
}

interface Tensor {
  dispose(): void;
}
interface FaceApi {
  tf: { tensor3d(d: Uint8Array, s: number[], dt: string): Tensor; getBackend(): string };
  FaceRecognitionNet: new () => {
    loadFromDisk(dir: string): Promise<void>;
    isLoaded: boolean;
    computeFaceDescriptor(t: Tensor): Promise<Float32Array | Float32Array[]>;
  };
}

export function faceApiPaths(modelsDir?: string): { js: string; modelsDir: string; packageJson: string } {
  const main = require.resolve('@vladmandic/face-api'); // .../dist/face-api.node.js
  return {
    js: join(dirname(main), 'face-api.node-wasm.js'),
    modelsDir: modelsDir ?? join(dirname(main), '..', 'model'),
    packageJson: join(dirname(main), '..', 'package.json'),
  };
}

/**
 * Loads the recognition network on the tfjs instance the engine already initialised (Human's wasm
 * backend: face-api's node-wasm bundle requires the same @tensorflow/tfjs-core module).
 */
export async function loadFaceMatcher(opts: { modelsDir?: string } = {}): Promise<FaceMatcher> {
  const p = faceApiPaths(opts.modelsDir);
  for (const f of ['face_recognition_model-weights_manifest.json', 'face_recognition_model.bin']) {
    if (!existsSync(join(p.modelsDir, f))) throw new Error(`engine: face-api model missing: ${join(p.modelsDir, f)}`);
  }
  const faceapi = require(p.js) as FaceApi;
  const net = new faceapi.FaceRecognitionNet();
  await net.loadFromDisk(p.modelsDir);
  if (!net.isLoaded) throw new Error(`engine: face-api recognition model failed to load from ${p.modelsDir}`);
  if (faceapi.tf.getBackend() !== 'wasm')
    throw new Error(`engine: face-api expected the tfjs wasm backend, got ${faceapi.tf.getBackend()}`);
  const version = (JSON.parse(readFileSync(p.packageJson, 'utf8')) as { version: string }).version;
  return {
    versions: [
      { name: 'face-api/face_recognition_model (dlib ResNet-34, 128-d)', version: `@vladmandic/face-api ${version}` },
    ],
    async describe(frame, mesh) {
      const chip = dlibChip(frame, mesh);
      const t = faceapi.tf.tensor3d(chip, [CHIP_SIZE, CHIP_SIZE, 3], 'int32');
      try {
        const d = await net.computeFaceDescriptor(t);
        return Array.from(Array.isArray(d) ? d[0] : d);
      } finally {
        t.dispose();
      }
    },
  };
}
