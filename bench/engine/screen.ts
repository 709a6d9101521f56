/**
 * Screen signs (2202): the lattice ratio (src/engine/document/screen.ts) of the corpus documents
 * (photos and scans of paper documents) and of generated document videos on paper and on a
 * simulated display, H.264 and VP8, at 1280 and 800 px wide. Usage: tsx bench/engine/screen.ts
 */
import { readdirSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { DEFAULT_THRESHOLDS as th } from '../../src/engine/config.ts';
import { decodeMedia, type RgbFrame } from '../../src/engine/decode.ts';
import { detectQuad } from '../../src/engine/document/quad.ts';
import { screenSignature } from '../../src/engine/document/screen.ts';
import { makeDocumentVideo, renderSpecimen } from '../../src/engine/fixtures/generate.ts';
import { loadOpenCv } from '../../src/engine/models/opencv.ts';
import { buildTd1 } from '../../src/engine/mrz/parse.ts';
import { median } from '../../src/engine/image.ts';
import { mediaDir } from './corpus.ts';

const { cv } = await loadOpenCv();
const opts = { minFreq: th.screenMinFrequency, minPeakRatio: th.screenMinPeakRatio };
const verdict = (x: number) =>
  x >= th.screenRefuseLatticeRatio ? 'REFUSE 2202' : x >= th.screenReviewLatticeRatio ? 'review' : 'pass';
function lattice(f: RgbFrame): number | null {
  const q = detectQuad(cv, f);
  const xs = q?.corners.map((p) => p[0]) ?? [0, f.width];
  const ys = q?.corners.map((p) => p[1]) ?? [0, f.height];
  const s = screenSignature(
    f,
    {
      x: Math.min(...xs),
      y: Math.min(...ys),
      w: Math.max(...xs) - Math.min(...xs),
      h: Math.max(...ys) - Math.min(...ys),
    },
    opts,
  );
  return s ? s.latticeRatio : null;
}
console.log(
  `thresholds: review from ${th.screenReviewLatticeRatio}, refuse from ${th.screenRefuseLatticeRatio}\n\ninput | lattice ratio (median over frames) | outcome`,
);
const dir = mediaDir();
if (dir) {
  for (const f of readdirSync(join(dir, 'documents'))) {
    const { data, info } = await sharp(join(dir, 'documents', f))
      .rotate()
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const r = lattice({ data, width: info.width, height: info.height, t: 0, index: 0 });
    console.log(`corpus ${f} | ${r === null ? 'too small' : Math.round(r)} | ${r === null ? '-' : verdict(r)}`);
  }
} else console.log('corpus not found: corpus part skipped');
const tmp = mkdtempSync(join(tmpdir(), 'kyclive-screen-'));
const spec = await renderSpecimen({
  mrz: buildTd1({
    state: 'FRA',
    surname: 'DUPONT',
    given: 'MARIE',
    number: 'X4RTBPFW4',
    nationality: 'FRA',
    birth: '900215',
    sex: 'F',
    expiry: '330101',
  }),
});
for (const screen of [false, true])
  for (const codec of ['h264', 'vp8'] as const)
    for (const [w, h] of [
      [1280, 720],
      [800, 450],
    ]) {
      const p = join(tmp, `d.${codec === 'vp8' ? 'webm' : 'mp4'}`);
      await makeDocumentVideo(spec, p, { seconds: 2, fps: 10, width: w, height: h, screen, codec });
      const d = await decodeMedia(p, '', {
        ffmpegPath: '/usr/bin/ffmpeg',
        fps: 4,
        width: 1280,
        maxFrames: 24,
        timeoutMs: 60000,
      });
      const rs = d.frames
        .slice(0, 6)
        .map(lattice)
        .filter((x): x is number => x !== null);
      const m = median(rs);
      console.log(
        `generated ${screen ? 'on a display' : 'paper'} ${codec} ${w}x${h} | ${Math.round(m)} (frames ${rs.map(Math.round).join(', ')}) | ${verdict(m)}`,
      );
    }
rmSync(tmp, { recursive: true, force: true });
