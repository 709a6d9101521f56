/** Loads @techstark/opencv-js (WASM) once per engine; resolves when the runtime is initialised. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// biome-ignore lint/suspicious/noExplicitAny: OpenCV.js ships no types
export type CV = any;

export async function loadOpenCv(timeoutMs = 30_000): Promise<{ cv: CV; version: string }> {
  const m = require('@techstark/opencv-js') as CV;
  const t0 = Date.now();
  // The module object is a thenable that never settles under `await`; poll for the runtime instead.
  while (!m.Mat) {
    if (Date.now() - t0 > timeoutMs) throw new Error('engine: opencv-js runtime did not initialise');
    await new Promise((r) => setTimeout(r, 20));
  }
  let version = 'unknown';
  try {
    version = String(m.getBuildInformation?.().match(/General configuration for OpenCV ([\d.]+)/)?.[1] ?? 'unknown');
  } catch {
    /* informational only */
  }
  return { cv: m, version };
}
