/**
 * The synthesis report: the PDF stored as documentTypeId 26 (liveness) or 34 (certified). It
 * states the verdict, the reasons, the extracted identity, the checks, key frames and the
 * SHA-256 of every input file; the caller records the PDF's own hash so that later tampering
 * is detectable. Used by the engine and by the sandbox (marked SIMULATED).
 */
import { createHash } from 'node:crypto';
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { ExtractedIdentity, VerificationMethod } from '../app/ports.ts';

export interface SynthesisReportInput {
  verificationId: string;
  method: VerificationMethod;
  simulated: boolean;
  generatedAt: Date;
  score: 1 | 0 | -1;
  comment: string;
  reasons: { code: number; message: string }[];
  extracted?: ExtractedIdentity;
  faceMatch?: { distance: number; acceptBelow: number; refuseFrom: number; model: string };
  keyFrames?: { label: string; jpeg: Buffer }[];
  inputs: { step: string; sha256: string; bytes?: number }[];
  checks?: { name: string; passed: boolean; measurement: string; threshold: string }[];
  models?: { name: string; version: string }[];
}

const VERDICT: Record<string, string> = {
  '1': 'VALID (score 1)',
  '0': 'REFUSED (score 0)',
  '-1': 'UNDECIDED - human review required (score -1)',
};

// The standard PDF fonts only encode WinAnsi: keep Latin-1 text, replace the rest.
const ansi = (s: string) => s.normalize('NFC').replace(/[^\x20-\x7e\xa0-\xff]/g, '?');

export async function renderSynthesisReport(input: SynthesisReportInput): Promise<{ pdf: Buffer; sha256: string }> {
  const doc = await PDFDocument.create();
  doc.setTitle(
    `kyclive ${input.method === 'certified' ? 'Certified Liveness Result' : 'Liveness result'} ${input.verificationId}`,
  );
  doc.setProducer('kyclive');
  // Machine-readable too: a simulated report must never pass for an analysis of real media.
  doc.setSubject(
    input.simulated ? 'SIMULATED kyclive sandbox result' : `kyclive analysis result, score ${input.score}`,
  );
  doc.setKeywords([
    `identification:${input.verificationId}`,
    `method:${input.method}`,
    `score:${input.score}`,
    input.simulated ? 'simulated' : 'analysed',
  ]);
  doc.setCreationDate(input.generatedAt);
  doc.setModificationDate(input.generatedAt);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  let page: PDFPage = doc.addPage([595, 842]);
  let y = 800;
  const line = (text: string, f: PDFFont = font, size = 10, color = rgb(0, 0, 0)) => {
    if (y < 60) {
      page = doc.addPage([595, 842]);
      y = 800;
    }
    page.drawText(ansi(text).slice(0, 110), { x: 48, y, size, font: f, color });
    y -= size + 5;
  };
  if (input.simulated)
    line('SIMULATED - produced by the kyclive sandbox, not by an analysis of real media', bold, 11, rgb(0.75, 0, 0));
  line(input.method === 'certified' ? 'Certified Liveness Result' : 'Liveness result', bold, 18);
  line(`Identification ${input.verificationId}`);
  line(`Generated ${input.generatedAt.toISOString()}`);
  y -= 6;
  line(`Verdict: ${VERDICT[String(input.score)]}`, bold, 13);
  if (input.comment) line(`Comment: ${input.comment}`);
  line('Reasons:', bold);
  if (input.reasons.length === 0) line('  none');
  for (const r of input.reasons) line(`  ${r.code}  ${r.message}`);
  if (input.extracted) {
    line('Extracted identity:', bold);
    for (const [k, v] of Object.entries(input.extracted)) if (v) line(`  ${k}: ${v}`);
  }
  if (input.faceMatch)
    line(
      `Face match distance ${input.faceMatch.distance.toFixed(3)} (accept < ${input.faceMatch.acceptBelow}, refuse >= ${input.faceMatch.refuseFrom}; lower = closer)`,
    );
  if (input.checks?.length) {
    line('Checks:', bold);
    for (const c of input.checks)
      line(`  [${c.passed ? 'pass' : 'FAIL'}] ${c.name}: ${c.measurement} (threshold ${c.threshold})`);
  }
  if (input.models?.length) {
    line('Models:', bold);
    for (const m of input.models) line(`  ${m.name} ${m.version}`);
  }
  line('Input files (SHA-256):', bold);
  for (const i of input.inputs)
    line(`  ${i.step}: ${i.sha256}${i.bytes !== undefined ? ` (${i.bytes} bytes)` : ''}`, font, 8);
  for (const k of input.keyFrames ?? []) {
    // a copy that owns its ArrayBuffer: pdf-lib reads the JPEG through a DataView on `.buffer` and
    // ignores byteOffset, which is not 0 for a Buffer that crossed a process boundary or a pool
    const img = await doc.embedJpg(new Uint8Array(k.jpeg));
    const scale = Math.min(240 / img.width, 180 / img.height, 1);
    if (y - img.height * scale < 60) {
      page = doc.addPage([595, 842]);
      y = 800;
    }
    line(k.label, bold);
    page.drawImage(img, { x: 48, y: y - img.height * scale, width: img.width * scale, height: img.height * scale });
    y -= img.height * scale + 12;
  }
  const pdf = Buffer.from(await doc.save({ useObjectStreams: false }));
  return { pdf, sha256: createHash('sha256').update(pdf).digest('hex') };
}
