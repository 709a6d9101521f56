/**
 * Document checks on the corpus stills (each still submitted as the document front through the full
 * engine), and Human's antispoof/liveness scores on the spoof stills. Usage: tsx bench/engine/documents.ts
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { createEngine } from '../../src/engine/index.ts';
import { loadHuman } from '../../src/engine/models/human.ts';
import { loadLabels, mediaDir } from './corpus.ts';

const dir = mediaDir();
if (!dir) {
  console.log('corpus not found (set KYCLIVE_MEDIA_DIR): skipped');
  process.exit(0);
}
const labels = loadLabels(dir);
const engine = await createEngine({ now: () => new Date('2026-11-26T12:00:00Z') });
type Check = { name: string; status: string };
let frontOk = 0;
let frontTotal = 0;
let expiredFound = 0;
let expiredTotal = 0;
let portraitOk = 0;
let portraitTotal = 0;
console.log('document | kind | front_presented | fully_visible | mrz | expiry (2101) | portrait found | reasons');
for (const d of labels.documents) {
  const r = await engine.analyze({
    verificationId: 'bench',
    method: 'liveness',
    challenges: [],
    metadata: {},
    media: [{ path: join(dir, d.file), step: 'document_front', contentType: 'image/jpeg', sha256: '' }],
  });
  const checks = r.evidence.checks as Check[];
  const st = (n: string) => checks.find((c) => c.name === n)?.status ?? '-';
  const isDoc = d.kind !== 'not_a_document';
  const front = st('document.front_presented');
  frontTotal++;
  if ((front === 'pass') === isDoc) frontOk++;
  const mrzStatus = st('mrz.check_digits') !== '-' ? st('mrz.check_digits') : st('mrz.read');
  if (d.mrz_lines.length && !d.mrz_lines_partial) {
    expiredTotal++;
    if (st('mrz.expiry') === 'fail') expiredFound++;
  }
  const portrait =
    (checks.find((c) => c.name === 'document.front_presented') as unknown as { measurement: { portrait: boolean }[] })
      ?.measurement?.[0]?.portrait ?? false;
  if (d.has_portrait_photo) {
    portraitTotal++;
    if (portrait) portraitOk++;
  }
  console.log(
    `${d.file.split('/')[1]} | ${d.kind} | ${front} | ${st('document.fully_visible')} | ${mrzStatus} | ${st('mrz.expiry')} | ${portrait} | ${r.reasons.join(',')}`,
  );
}
console.log(
  `document presence (1302) correct ${frontOk}/${frontTotal}; expired detected (2101) on ${expiredFound}/${expiredTotal} fully visible MRZs (all corpus documents are expired); portrait found on ${portraitOk}/${portraitTotal} documents with a photo`,
);
await engine.close();

const human = await loadHuman();
console.log('spoof still | attack | Human antispoof real | Human liveness live');
for (const s of labels.spoofs) {
  const { data, info } = await sharp(join(dir, s.file))
    .rotate()
    .resize({ width: 720, withoutEnlargement: true })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const f = (await human.detect({ data, width: info.width, height: info.height, t: 0, index: 0 }, true))[0];
  console.log(
    `${s.file.split('/')[1]} | ${s.attack} | ${f?.real?.toFixed(2) ?? 'no face'} | ${f?.live?.toFixed(2) ?? 'no face'}`,
  );
}
