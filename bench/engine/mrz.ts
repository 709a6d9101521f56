/**
 * MRZ benchmark on the labelled corpus documents (each still read as one frame) and on generated
 * document videos (specimen moving and tilting, voting across frames). Usage: tsx bench/engine/mrz.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { buildGlyphModel } from '../../src/engine/mrz/glyphs.ts';
import { readMrzInFrame, voteAndDecode } from '../../src/engine/mrz/read.ts';
import { parseMrz, buildTd1, buildTd3 } from '../../src/engine/mrz/parse.ts';
import { MIN_READ_QUALITY } from '../../src/engine/document/checks.ts';
import { decodeMedia } from '../../src/engine/decode.ts';
import { makeDocumentVideo, renderSpecimen } from '../../src/engine/fixtures/generate.ts';
import { loadLabels, mediaDir } from './corpus.ts';

const NOW = new Date('2026-11-26T12:00:00Z');
const model = await buildGlyphModel();
const dir = mediaDir();
let fullyVisible = 0;
let exact = 0;
let wrongTrusted = 0;
let trusted = 0;
if (dir) {
  console.log(
    'document | MRZ | found | exact read | trusted (quality≥0.8, check digits valid) | wrong but trusted | ms',
  );
  for (const d of loadLabels(dir).documents) {
    const { data, info } = await sharp(join(dir, d.file))
      .rotate()
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const t0 = performance.now();
    const r = readMrzInFrame(model, { data, width: info.width, height: info.height, t: 0, index: 0 });
    const dec = r ? voteAndDecode([r], NOW) : null;
    const ms = performance.now() - t0;
    const hasFull = d.mrz_lines.length > 0 && !d.mrz_lines_partial;
    const isExact = !!dec && hasFull && dec.lines.every((l, i) => l === d.mrz_lines[i]);
    const isTrusted = !!dec && dec.meanScore >= MIN_READ_QUALITY && dec.fields.valid;
    const truth = hasFull ? parseMrz(d.mrz_lines, NOW) : null;
    const wrong =
      isTrusted &&
      (!truth ||
        ['documentNumber', 'birthDate', 'expiryDate', 'surname', 'givenNames'].some(
          (k) =>
            (dec!.fields as unknown as Record<string, unknown>)[k] !== (truth as unknown as Record<string, unknown>)[k],
        ));
    if (hasFull) fullyVisible++;
    if (isExact) exact++;
    if (isTrusted) trusted++;
    if (wrong) wrongTrusted++;
    console.log(
      `${d.file.split('/')[1]} | ${d.mrz_format}${d.mrz_lines_partial ? ' (partial)' : ''} | ${dec ? 'yes' : 'no'} | ${hasFull ? (isExact ? 'EXACT' : 'no') : '-'} | ${isTrusted ? 'yes' : 'no'} | ${wrong ? 'WRONG' : ''} | ${ms.toFixed(0)}`,
    );
  }
  console.log(
    `MRZ corpus stills: exact ${exact}/${fullyVisible} fully visible MRZs (${((100 * exact) / Math.max(1, fullyVisible)).toFixed(0)} %), trusted ${trusted}, wrong-but-trusted ${wrongTrusted}`,
  );
} else console.log('corpus not found (set KYCLIVE_MEDIA_DIR): corpus part skipped');

// generated videos: TD1 and TD3 specimens moving and tilting at 720p, voting over frames
const tmp = mkdtempSync(join(tmpdir(), 'kyclive-mrz-'));
let vidExact = 0;
let vidTotal = 0;
let vidMs = 0;
let vidFrames = 0;
const specs = [
  buildTd1({
    state: 'FRA',
    surname: 'DUPONT',
    given: 'MARIE CLAIRE',
    number: 'X4RTBPFW4',
    nationality: 'FRA',
    birth: '900215',
    sex: 'F',
    expiry: '330101',
  }),
  buildTd3({
    state: 'D',
    surname: 'MUSTERMANN',
    given: 'ERIKA',
    number: 'C01X0006H',
    nationality: 'D',
    birth: '640812',
    sex: 'F',
    expiry: '310101',
  }),
  buildTd1({
    state: 'BEL',
    surname: 'VAN DER BERGHE',
    given: 'JAN PIETER',
    number: 'B12345678',
    nationality: 'BEL',
    birth: '011231',
    sex: 'M',
    expiry: '290630',
  }),
];
for (const [i, lines] of specs.entries()) {
  for (const o of [{ tilt: 0.15 }, { tilt: 0.25, blur: 1 }, { tilt: 0.1, brightness: -0.25 }]) {
    const p = join(tmp, `doc-${i}.mp4`);
    await makeDocumentVideo(await renderSpecimen({ mrz: lines }), p, {
      seconds: 3,
      fps: 15,
      width: 1280,
      height: 720,
      seed: i + 3,
      ...o,
    });
    const d = await decodeMedia(p, 'video/mp4', {
      ffmpegPath: '/usr/bin/ffmpeg',
      fps: 4,
      width: 1280,
      maxFrames: 40,
      timeoutMs: 60000,
    });
    const t0 = performance.now();
    const reads = d.frames
      .slice(0, 8)
      .map((f) => readMrzInFrame(model, f))
      .filter((r): r is NonNullable<typeof r> => !!r);
    vidMs += performance.now() - t0;
    vidFrames += Math.min(8, d.frames.length);
    const dec = voteAndDecode(reads, NOW);
    const ok = !!dec && dec.lines.every((l, k) => l === lines[k]);
    vidTotal++;
    if (ok) vidExact++;
    console.log(
      `video ${lines[0].slice(0, 10)}… ${JSON.stringify(o)}: frames read ${reads.length}/8, ${ok ? 'EXACT' : 'wrong: ' + (dec?.lines.join(' / ') ?? 'none')}`,
    );
  }
}
console.log(
  `MRZ generated videos: exact ${vidExact}/${vidTotal}; readMrzInFrame ${(vidMs / Math.max(1, vidFrames)).toFixed(1)} ms per 1280×720 frame (mean of ${vidFrames})`,
);
rmSync(tmp, { recursive: true, force: true });
