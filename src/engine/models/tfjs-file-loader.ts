/**
 * A tfjs IO load router for file:// URLs so every model loads offline from disk (Node's fetch has no
 * file:// support). The router is a pure function of the URL; registering it twice is harmless but
 * we register once per tfjs instance.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface TfIo {
  io: { registerLoadRouter(r: (url: string | string[]) => unknown): void };
}

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
  signature?: unknown;
  userDefinedMetadata?: unknown;
  modelInitializer?: unknown;
}

const registered = new WeakSet<object>();

/** Loads a tfjs model.json + shards from disk into ModelArtifacts; throws when any file is missing. */
export function loadArtifactsFromDisk(jsonPath: string): Record<string, unknown> {
  const j = JSON.parse(readFileSync(jsonPath, 'utf8')) as ModelJson;
  const dir = dirname(jsonPath);
  const specs: unknown[] = [];
  const bufs: Buffer[] = [];
  for (const g of j.weightsManifest) {
    specs.push(...g.weights);
    for (const p of g.paths) bufs.push(readFileSync(join(dir, p)));
  }
  const all = Buffer.concat(bufs);
  return {
    modelTopology: j.modelTopology,
    format: j.format,
    generatedBy: j.generatedBy,
    convertedBy: j.convertedBy,
    weightSpecs: specs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    signature: j.signature,
    userDefinedMetadata: j.userDefinedMetadata,
    modelInitializer: j.modelInitializer,
  };
}

export function registerFileLoader(tf: TfIo): void {
  if (registered.has(tf.io)) return;
  registered.add(tf.io);
  tf.io.registerLoadRouter((url) => {
    if (typeof url !== 'string' || !url.startsWith('file://')) return null;
    const path = fileURLToPath(url);
    return { load: async () => loadArtifactsFromDisk(path) };
  });
}
