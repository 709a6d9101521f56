/**
 * Engine benchmark (npm run bench:engine): runs each part in its own process, one after the other
 * (the machine has 2 cores; the WASM models are single-threaded): MRZ, face match, liveness,
 * document checks, speed/memory. Reads the labelled corpus from ../shared/media or KYCLIVE_MEDIA_DIR.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const parts = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['mrz', 'facematch', 'liveness', 'documents', 'quality', 'screen', 'speed'];
for (const part of parts) {
  console.log(`\n=== ${part} ===`);
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`./${part}.ts`, import.meta.url))], {
    stdio: 'inherit',
  });
  console.log(`(${part}: ${((performance.now() - t) / 1000).toFixed(1)} s, exit ${r.status})`);
}
