/**
 * Document and MRZ checks (pure functions over the per-medium analyses and the MRZ decode):
 * presence of front/back (1302/1303), fully visible (1304), dynamic view (1305), blur (1301),
 * photocopy (2201), MRZ check digits (2301), expiry (2101), accepted type/country (2102),
 * denylist (2302), front/back consistency (2303), identity (2401).
 */
import type { ExpectedIdentity } from '../../app/ports.ts';
import type { EngineConfig } from '../config.ts';
import type { CheckResult } from '../types.ts';
import type { MrzDecode } from '../mrz/read.ts';
import { compareIdentity } from '../identity.ts';
import { median, percentile } from '../image.ts';
import type { DocumentMediumAnalysis } from './analyse.ts';
import { perspectiveSignature } from './quad.ts';
import { compareVizNumber } from './viz-number.ts';

/** Mean OCR-B match score under which an MRZ read is not trusted at all (clean reads score ≥ 0.85). */
export const MIN_READ_QUALITY = 0.8;
/** A check-digit failure refuses (2301) only from this read quality (a crisp read that still fails). */
export const REFUSE_READ_QUALITY = 0.88;

/** An MRZ whose fields can be used: read well enough and every check digit valid. */
export const isTrustedMrz = (mrz: MrzDecode | null): mrz is MrzDecode =>
  !!mrz && mrz.meanScore >= MIN_READ_QUALITY && mrz.fields.valid;

const r3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);

export function documentCaptureChecks(
  media: DocumentMediumAnalysis[],
  mrz: MrzDecode | null,
  hasStills: boolean,
  cfg: EngineConfig,
): CheckResult[] {
  const th = cfg.thresholds;
  const out: CheckResult[] = [];
  const all = media.flatMap((m) => m.frames.map((f) => ({ ...f, step: m.step })));
  const front = media.filter((m) => m.step === 'document_front' || m.step === 'document_tilt');
  const back = media.filter((m) => m.step === 'document_back');
  const docSeen = (m: DocumentMediumAnalysis) => m.frames.some((f) => f.quad) || m.mrzReads.length > 0 || !!m.portrait;
  // front: a document with a portrait or an MRZ (passport data page, old French/German cards)
  const frontOk = front.some(
    (m) =>
      m.mrzReads.some((r) => r.quality >= 0.7) || (!!m.portrait && m.portraitShare !== null && m.portraitShare <= 0.3),
  );
  out.push({
    name: 'document.front_presented',
    status: frontOk ? 'pass' : 'fail',
    reason: 1302,
    measurement: front.map((m) => ({
      step: m.step,
      quadFrames: m.frames.filter((f) => f.quad).length,
      mrzFrames: m.mrzReads.length,
      portrait: !!m.portrait,
      portraitShareOfDocument: m.portraitShare,
    })),
    threshold: 'an MRZ (OCR-B quality ≥ 0.7), or an ID-photo-sized portrait (≤ 30 % of the document area)',
    step: 'document_front',
  });
  // back: needed for identity cards / residence permits (TD1 or document code I/A/C) unless the front carries the MRZ of a TD2/TD3 page
  const needsBack = mrz ? mrz.format === 'TD1' : back.length > 0;
  if (needsBack) {
    const backOk = back.some((m) => docSeen(m) && (m.mrzReads.length > 0 || m.frames.some((f) => f.quad)));
    out.push({
      name: 'document.back_presented',
      status: backOk ? 'pass' : 'fail',
      reason: 1303,
      measurement: back.map((m) => ({
        step: m.step,
        quadFrames: m.frames.filter((f) => f.quad).length,
        mrzFrames: m.mrzReads.length,
      })),
      threshold: 'document back found (MRZ or outline)',
      step: 'document_back',
    });
  } else {
    out.push({
      name: 'document.back_presented',
      status: 'skipped',
      measurement: { format: mrz?.format ?? null },
      threshold: 'only for TD1 identity cards',
    });
  }
  // fully visible: the outline must not touch the frame border (videos), and the MRZ must not start/end at the border
  const quadFrames = all.filter((f) => f.quad);
  const mrzReads = media.flatMap((m) => m.mrzReads);
  const mrzCut = mrzReads.length > 0 && mrzReads.filter((r) => r.atBorder).length / mrzReads.length >= 0.5;
  if (!hasStills && quadFrames.length) {
    const inside = quadFrames.filter((f) => !f.quad!.touchesBorder).length / quadFrames.length;
    out.push({
      name: 'document.fully_visible',
      status: inside >= 0.5 && !mrzCut ? 'pass' : 'fail',
      reason: 1304,
      measurement: { shareInside: r3(inside), quadFrames: quadFrames.length, mrzAtBorder: mrzCut },
      threshold: { minShareInside: 0.5, mrzAtBorder: false },
      frames: quadFrames.map((f) => f.frame),
    });
  } else if (mrzReads.length) {
    out.push({
      name: 'document.fully_visible',
      status: mrzCut ? 'fail' : 'pass',
      reason: 1304,
      measurement: { mrzAtBorder: mrzCut, mrzReads: mrzReads.length },
      threshold: { mrzAtBorder: false },
      note: hasStills ? 'still image (a scan may fill the frame): only the MRZ position is checked' : undefined,
    });
  } else {
    out.push({
      name: 'document.fully_visible',
      status: 'skipped',
      measurement: { quadFrames: quadFrames.length },
      threshold: { minShareInside: 0.5 },
      note: 'document outline not tracked and no MRZ (fills the frame or no document)',
    });
  }
  // dynamic view: the outline's perspective must change while the document is tilted
  const sigs = all.filter((f) => f.quad && !f.quad.touchesBorder).map((f) => perspectiveSignature(f.quad!.corners));
  if (sigs.length >= 4) {
    const spread = Math.max(
      percentile(
        sigs.map((s) => s[0]),
        0.95,
      ) -
        percentile(
          sigs.map((s) => s[0]),
          0.05,
        ),
      percentile(
        sigs.map((s) => s[1]),
        0.95,
      ) -
        percentile(
          sigs.map((s) => s[1]),
          0.05,
        ),
    );
    out.push({
      name: 'document.dynamic_view',
      status: spread >= th.tiltMinPerspectiveChange ? 'pass' : 'fail',
      reason: 1305,
      measurement: { perspectiveSpread: r3(spread), frames: sigs.length },
      threshold: { minPerspectiveSpread: th.tiltMinPerspectiveChange },
    });
  } else {
    out.push({
      name: 'document.dynamic_view',
      status: hasStills ? 'fail' : 'inconclusive',
      reason: 1305,
      measurement: { trackedFrames: sigs.length },
      threshold: { minTrackedFrames: 4 },
      note: hasStills ? 'still images cannot show a dynamic view' : 'document outline not tracked in enough frames',
    });
  }
  // blur on the document region, per medium (a sharp back does not excuse a blurred front)
  if (all.length) {
    const perMedium = media.map((m) => ({
      step: m.step,
      sharp: m.frames.length ? m.frames.filter((f) => f.blur <= th.documentMaxBlurEffect).length / m.frames.length : 1,
      median: median(m.frames.map((f) => f.blur)),
    }));
    const blurred = perMedium.filter((m) => m.sharp < th.minSharpFrameShare);
    out.push({
      name: 'document.blur',
      status: blurred.length ? 'fail' : 'pass',
      reason: 1301,
      measurement: perMedium.map((m) => ({ step: m.step, sharpShare: r3(m.sharp), medianBlurEffect: r3(m.median) })),
      threshold: { maxBlurEffect: th.documentMaxBlurEffect, minSharpShare: th.minSharpFrameShare },
    });
    // a side too blurry to recognise is reported as 1301, not as "not presented"
    for (const c of out) {
      if (
        (c.name === 'document.front_presented' && blurred.some((b) => b.step !== 'document_back')) ||
        (c.name === 'document.back_presented' && blurred.some((b) => b.step === 'document_back'))
      ) {
        if (c.status === 'fail') {
          c.status = 'skipped';
          c.note = 'too blurry to tell: reported as 1301';
        }
      }
    }
    // photocopy: no chroma on the document while the scene has colour (a colour camera)
    const docSat = median(all.map((f) => f.saturation));
    const sceneSat = median(all.map((f) => f.sceneSaturation));
    const grey = docSat < th.photocopyMaxSaturation;
    const colourCamera = sceneSat >= 2 * th.photocopyMaxSaturation || !quadFrames.length;
    out.push({
      name: 'document.photocopy',
      status: grey ? (colourCamera ? 'fail' : 'inconclusive') : 'pass',
      reason: 2201,
      measurement: { documentSaturationP90: r3(docSat), sceneSaturationP90: r3(sceneSat) },
      threshold: { minDocumentSaturation: th.photocopyMaxSaturation },
    });
  }
  out.push(screenCheck(media, cfg));
  return out;
}

/**
 * 2202: per medium, the median lattice ratio of its analysed frames (one frame with a strong
 * periodic texture is not enough: print and guilloche can line up by chance); the worst medium
 * decides. Measured (src/engine/README.md): photographed and scanned corpus documents ≤ 130,
 * synthetic paper renders (nearest-neighbour warps, which alias fine print) ≤ 160, documents on a
 * simulated display 1 000-65 000 after H.264 but only 54-420 after VP8. Review from 300 (about 2×
 * anything seen on paper), refusal from 1 000: a refusal needs a lattice that paper never gave.
 */
function screenCheck(media: DocumentMediumAnalysis[], cfg: EngineConfig): CheckResult {
  const th = cfg.thresholds;
  const rows = media
    .filter((m) => m.screen.length)
    .map((m) => ({
      step: m.step,
      frames: m.screen.length,
      medianLatticeRatio: median(m.screen.map((s) => s.latticeRatio)),
      strongest: m.screen.slice().sort((a, b) => b.latticeRatio - a.latticeRatio)[0],
    }));
  const threshold = {
    reviewFromLatticeRatio: th.screenReviewLatticeRatio,
    refuseFromLatticeRatio: th.screenRefuseLatticeRatio,
    minFrequency: th.screenMinFrequency,
  };
  if (!rows.length)
    return {
      name: 'document.screen',
      status: 'skipped',
      reason: 2202,
      measurement: null,
      threshold,
      note: 'no document region large enough (128 px) to analyse',
    };
  const worst = Math.max(...rows.map((r) => r.medianLatticeRatio));
  return {
    name: 'document.screen',
    status:
      worst >= th.screenRefuseLatticeRatio ? 'fail' : worst >= th.screenReviewLatticeRatio ? 'inconclusive' : 'pass',
    reason: 2202,
    measurement: rows.map((r) => ({
      step: r.step,
      frames: r.frames,
      medianLatticeRatio: r.medianLatticeRatio,
      strongestFrame: r.strongest.frame,
      peaks: r.strongest.peaks,
    })),
    threshold,
    frames: media.flatMap((m) => m.screen.map((s) => s.frame)),
  };
}

/**
 * 2303, visual zone vs MRZ: the number printed on the front against the trusted MRZ number. Found
 * (at most one character off) → pass. A crisp standalone token of the number's length and pattern
 * that differs in 3+ characters, while the number itself is nowhere on the front, refuses only when
 * the MRZ was read on another side (front and back of different documents); on the MRZ's own page
 * or with a softer read it goes to human review. Not found → skipped: many fonts do not read as OCR-B.
 */
export function vizNumberCheck(
  media: DocumentMediumAnalysis[],
  mrz: MrzDecode | null,
  perMedium: { step: string; decode: MrzDecode | null }[],
): CheckResult {
  const front = media.filter((m) => m.step === 'document_front' && m.vizLines.length);
  const frontLines = front.reduce((s, m) => s + m.vizLines.length, 0);
  if (!isTrustedMrz(mrz) || !front.length) {
    return {
      name: 'document.viz_number',
      status: 'skipped',
      reason: 2303,
      measurement: { frontLines, mrzTrusted: isTrustedMrz(mrz) },
      threshold: 'a trusted MRZ and a front to compare',
    };
  }
  const cmp = compareVizNumber(
    front.flatMap((m) => m.vizLines),
    mrz.fields.documentNumber,
  );
  const mrzOnFront = perMedium.some((p) => p.step === 'document_front' && p.decode?.fields.valid);
  const crisp = cmp.contradicting.filter((c) => c.meanScore >= REFUSE_READ_QUALITY && c.differing >= 3);
  const soft = cmp.contradicting.filter((c) => c.meanScore >= MIN_READ_QUALITY);
  const status = cmp.found ? 'pass' : crisp.length && !mrzOnFront ? 'fail' : soft.length ? 'inconclusive' : 'skipped';
  return {
    name: 'document.viz_number',
    status,
    reason: 2303,
    measurement: { found: cmp.found, contradicting: cmp.contradicting, mrzReadOnFront: mrzOnFront, frontLines },
    threshold: {
      foundMaxDiffering: 1,
      refuse: { minMeanScore: REFUSE_READ_QUALITY, minDiffering: 3, mrzOnAnotherSide: true },
      review: { minMeanScore: MIN_READ_QUALITY, minDiffering: 2 },
    },
    note:
      status === 'skipped'
        ? 'the MRZ number was not found on the front (its font may not read as OCR-B): not compared'
        : undefined,
    frames: [...new Set(front.flatMap((m) => m.vizLines.map((l) => l.frame)))],
  };
}

function fraCniExpiry(num: string): string | null {
  const m = /^(\d{2})(\d{2})/.exec(num);
  if (!m) return null;
  const yy = Number(m[1]);
  const mm = Number(m[2]);
  if (mm < 1 || mm > 12) return null;
  // issued YYMM; adult cards are valid 10 years (15 since 2014 for cards issued 2004-2013): take the lenient 15
  const year = (yy >= 88 ? 1900 : 2000) + yy + 15;
  return `${year}-${m[2]}-01`;
}

export function mrzChecks(
  mrz: MrzDecode | null,
  mrzExpected: boolean,
  perMedium: { step: string; decode: MrzDecode | null }[],
  cfg: EngineConfig,
  expected: ExpectedIdentity | undefined,
  now: Date,
): CheckResult[] {
  const out: CheckResult[] = [];
  if (!mrz) {
    out.push({
      name: 'mrz.read',
      status: mrzExpected ? 'inconclusive' : 'skipped',
      measurement: { found: false },
      threshold: 'MRZ located and decoded',
      note: 'no MRZ could be read; a human must check the document',
    });
    if (expected)
      out.push({
        name: 'identity.match',
        status: 'inconclusive',
        reason: 2401,
        measurement: null,
        threshold: null,
        note: 'no MRZ to compare with',
      });
    return out;
  }
  const f = mrz.fields;
  if (mrz.meanScore < MIN_READ_QUALITY) {
    out.push({
      name: 'mrz.read',
      status: 'inconclusive',
      measurement: { found: true, meanScore: r3(mrz.meanScore), format: mrz.format },
      threshold: { minMeanScore: MIN_READ_QUALITY },
      note: 'MRZ found but the glyphs do not read reliably (glare, overlay, perspective); a human must check it',
    });
    if (expected)
      out.push({
        name: 'identity.match',
        status: 'inconclusive',
        reason: 2401,
        measurement: null,
        threshold: null,
        note: 'MRZ unreadable',
      });
    return out;
  }
  out.push({
    name: 'mrz.check_digits',
    status: f.valid ? 'pass' : mrz.meanScore >= REFUSE_READ_QUALITY ? 'fail' : 'inconclusive',
    reason: 2301,
    measurement: {
      format: mrz.format,
      checks: f.checks,
      corrections: mrz.corrections.length,
      meanScore: r3(mrz.meanScore),
      framesVoted: mrz.framesVoted,
    },
    threshold: {
      icao9303: '7-3-1 check digits',
      minMeanScore: MIN_READ_QUALITY,
      refuseOnlyFromMeanScore: REFUSE_READ_QUALITY,
    },
  });
  if (!f.valid) return out; // fields are unreliable when the check digits fail
  const expiry = f.expiryDate ?? (f.format === 'FR_CNI' ? fraCniExpiry(f.documentNumber) : null);
  const today = now.toISOString().slice(0, 10);
  out.push({
    name: 'mrz.expiry',
    status: expiry ? (expiry < today ? 'fail' : 'pass') : 'inconclusive',
    reason: 2101,
    measurement: { expiryDate: expiry, inferred: !f.expiryDate },
    threshold: { notBefore: today },
  });
  const codeOk = !cfg.acceptedDocumentCodes.length || cfg.acceptedDocumentCodes.includes(f.documentCode[0] ?? '');
  const countryOk = !cfg.acceptedCountries.length || cfg.acceptedCountries.includes(f.issuingState);
  out.push({
    name: 'mrz.accepted_document',
    status: codeOk && countryOk ? 'pass' : 'fail',
    reason: 2102,
    measurement: { documentCode: f.documentCode, issuingState: f.issuingState },
    threshold: {
      acceptedDocumentCodes: cfg.acceptedDocumentCodes,
      acceptedCountries: cfg.acceptedCountries.length ? cfg.acceptedCountries : 'all',
    },
  });
  const num = f.documentNumber.replace(/[^A-Z0-9]/g, '');
  out.push({
    name: 'mrz.denylist',
    status: cfg.denylist.includes(num) ? 'fail' : 'pass',
    reason: 2302,
    measurement: { listed: cfg.denylist.includes(num) },
    threshold: { denylistSize: cfg.denylist.length },
  });
  const numbers = perMedium
    .filter((p) => p.decode?.fields.valid)
    .map((p) => ({ step: p.step, num: p.decode!.fields.documentNumber }));
  const distinct = new Set(numbers.map((n) => n.num));
  out.push({
    name: 'document.same_document',
    status: numbers.length < 2 ? 'skipped' : distinct.size > 1 ? 'fail' : 'pass',
    reason: 2303,
    measurement: { numbersPerStep: numbers.length, distinct: distinct.size },
    threshold: 'one document number across sides',
    note: 'compares MRZ numbers read on each side; the visual-zone number is not OCR-ed yet',
  });
  if (expected) {
    const cmp = compareIdentity(expected, f);
    out.push({
      name: 'identity.match',
      status: cmp.match ? 'pass' : cmp.nearMiss ? 'inconclusive' : 'fail',
      reason: 2401,
      measurement: {
        lastname: cmp.lastname,
        firstname: cmp.firstname,
        birthday: cmp.birthday,
        oneCharacterOff: cmp.nearMiss,
      },
      threshold:
        'ICAO transliteration, case/accent/compound tolerant; birth date equal; a name one character off (no check digit protects MRZ names) goes to human review',
      note: cmp.nearMiss ? 'names differ by one character: possible misread' : undefined,
    });
  } else {
    out.push({
      name: 'identity.match',
      status: 'skipped',
      measurement: null,
      threshold: null,
      note: 'no expected identity given',
    });
  }
  return out;
}
