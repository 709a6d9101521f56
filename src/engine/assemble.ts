/**
 * From the two parts' plain results to the verdict: every check, the face match, the policy and the
 * synthesis report. No model and no pixel work happens here (the parts did it), so this runs
 * wherever the parts are collected: in the engine's own process or in the pool's parent.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { AnalysisResult, ExtractedIdentity } from '../app/ports.ts';
import { renderSynthesisReport } from '../report/synthesis-report.ts';
import type { EngineConfig } from './config.ts';
import { connectionCheck, deviceCheck, playableCheck, reencodingCheck, timingCheck } from './capture-checks.ts';
import { documentCaptureChecks, isTrustedMrz, mrzChecks, vizNumberCheck } from './document/checks.ts';
import { faceQualityChecks, identityConsistencyCheck, livenessCheck, presentationAttackCheck } from './face/checks.ts';
import { decideFaceMatch, FACE_MATCH_MODEL, type FaceMatchSummary } from './face/match.ts';
import { voteAndDecode, type MrzDecode } from './mrz/read.ts';
import type { DocumentPart, FacePart, PartInput } from './parts.ts';
import { decide, REASON_MESSAGES } from './policy.ts';
import type { CheckResult } from './types.ts';

export interface EngineInfo {
  name: string;
  version: string;
  modelLoadMs: number;
  models: { name: string; version: string }[];
}

/** A part that threw: its checks are undecided (1901 in the evidence); the other part's checks still count. */
export interface PartFailure {
  error: string;
}

const sha256File = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

function fmtMeasure(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return (s ?? '').slice(0, 200);
}

function mergeTimings(...ts: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of ts) for (const [k, v] of Object.entries(t)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export async function assembleResult(
  cfg: EngineConfig,
  info: EngineInfo,
  input: PartInput,
  face: FacePart | PartFailure,
  doc: DocumentPart | PartFailure,
  wallMs: { startedAt: number },
): Promise<AnalysisResult> {
  const now = cfg.now ? cfg.now() : new Date();
  const checks: CheckResult[] = [];
  const evidence: Record<string, unknown> = {
    engine: { name: info.name, version: info.version, modelLoadMs: Math.round(info.modelLoadMs) },
    models: info.models,
    method: input.method,
    thresholds: cfg.thresholds,
  };
  const partTimings = mergeTimings(...[face, doc].map((p) => ('timings' in p ? p.timings : {})));
  let extracted: ExtractedIdentity | undefined;
  const keyFrames: NonNullable<AnalysisResult['keyFrames']> = [];
  let faceMatchEvidence: FaceMatchSummary | undefined;
  const meta = input.metadata ?? {};
  // Fail closed, one check at a time: a check (or a whole half) that throws becomes that check's
  // `inconclusive` with the error as its evidence. Every other check still runs, so a refusal found
  // elsewhere stays a refusal; the exception can at worst send an otherwise clean session to review.
  const run = (name: string, reason: number | undefined, fn: () => CheckResult | CheckResult[] | undefined): void => {
    try {
      const out = fn();
      if (out) checks.push(...(Array.isArray(out) ? out : [out]));
    } catch (e) {
      checks.push(errored(name, reason, e));
    }
  };
  const f = 'error' in face ? null : face;
  const d = 'error' in doc ? null : doc;
  if (!f) checks.push(errored('face.analysis', 1901, (face as PartFailure).error));
  if (!d) checks.push(errored('document.analysis', 1901, (doc as PartFailure).error));
  const decoded = [...(d?.media ?? []), ...(f?.media ?? [])];
  evidence.media = decoded.map((m) => ({
    step: m.step,
    kind: m.decoded.kind,
    ok: m.decoded.ok,
    codec: m.decoded.codec ?? null,
    encoders: m.decoded.encoders ?? [],
    source: m.decoded.sourceWidth ? `${m.decoded.sourceWidth}x${m.decoded.sourceHeight}` : null,
    sampledFrames: m.sampledFrames,
    sourceFrames: m.decoded.sourceTimes.length,
    measuredDurationSec: Math.round(m.decoded.measuredDuration * 100) / 100,
    truncated: m.decoded.truncated,
    decodeMs: Math.round(m.decoded.decodeMs),
  }));
  run('capture.playable', 1911, () => playableCheck(decoded));
  run('capture.connection', 1201, () => connectionCheck(decoded, meta, cfg));
  run('capture.timing', 2307, () => timingCheck(decoded, cfg));
  run('capture.reencoded', 2307, () => reencodingCheck(decoded, meta));
  run('device.integrity', 2402, () => deviceCheck(meta, cfg));
  const faceOk = f ? f.media.filter((m) => m.decoded.ok) : [];
  const docOk = d ? d.media.filter((m) => m.decoded.ok) : [];
  const faceObs = f?.obs ?? [];
  if (f && faceOk.length) {
    run('face.quality', undefined, () => faceQualityChecks(faceObs, cfg.thresholds));
    if (faceObs.some((o) => o.faces >= 1)) {
      run('face.liveness', 1313, () => {
        const recStart = typeof meta.faceRecordingStartedAt === 'number' ? meta.faceRecordingStartedAt : undefined;
        const shown =
          recStart !== undefined && meta.challengeShownAt?.length
            ? meta.challengeShownAt.map((ms) => (ms - recStart) / 1000)
            : undefined;
        return livenessCheck(faceObs, input.challenges ?? [], shown, cfg.thresholds, f.texture);
      });
      run('face.identity_consistency', 2305, () => identityConsistencyCheck(faceObs, cfg.thresholds));
      run('face.presentation_attack', 2306, () => presentationAttackCheck(faceObs));
    }
    if (faceOk.every((m) => m.decoded.kind === 'still'))
      checks.push({
        name: 'face.video',
        status: 'fail',
        reason: 1313,
        measurement: { kind: 'still' },
        threshold: 'a face video is required for liveness',
      });
  } else if (f && !f.media.length) {
    checks.push({
      name: 'face.presence',
      status: 'fail',
      reason: 1311,
      measurement: { faceMedia: 0 },
      threshold: 'a face video is required',
    });
  }
  const docs = d?.docs ?? [];
  if (d) {
    let mrz: MrzDecode | null = null;
    let perMedium: { step: string; decode: MrzDecode | null }[] = [];
    run('document.mrz', 2301, () => {
      mrz = voteAndDecode(
        docs.flatMap((x) => x.mrzReads),
        now,
      );
      perMedium = docs.map((x) => ({ step: x.step, decode: voteAndDecode(x.mrzReads, now) }));
      const docFound = docs.some((x) => x.frames.some((o) => o.quad) || x.mrzReads.length > 0);
      return mrzChecks(mrz, docFound, perMedium, cfg, input.expected, now);
    });
    if (docOk.length) {
      run('document.capture', undefined, () =>
        documentCaptureChecks(
          docs,
          mrz,
          d.media.some((m) => m.decoded.kind === 'still'),
          cfg,
        ),
      );
      run('document.viz_number', 2303, () => vizNumberCheck(docs, mrz, perMedium));
    } else if (!d.media.length) {
      checks.push({
        name: 'document.front_presented',
        status: 'fail',
        reason: 1302,
        measurement: { documentMedia: 0 },
        threshold: 'a document capture is required',
      });
    }
    const decodedMrz = mrz as MrzDecode | null;
    if (isTrustedMrz(decodedMrz)) {
      const m = decodedMrz.fields;
      extracted = {
        lastname: m.surname || undefined,
        firstname: m.givenNames || undefined,
        birthday: m.birthDate ?? undefined,
        documentNumber: m.documentNumber || undefined,
        documentType: m.documentCode || undefined,
        issuingCountry: m.issuingState || undefined,
        nationality: m.nationality || undefined,
        expiryDate: m.expiryDate ?? undefined,
        sex: m.sex ?? undefined,
      };
    }
    const framesTried = docs.map((x) => ({ step: x.step, frames: x.mrzFramesTried }));
    evidence.mrz = decodedMrz
      ? {
          format: decodedMrz.format,
          valid: decodedMrz.fields.valid,
          checks: decodedMrz.fields.checks,
          corrections: decodedMrz.corrections.length,
          meanScore: Math.round(decodedMrz.meanScore * 1000) / 1000,
          minMargin: Math.round(decodedMrz.minMargin * 1000) / 1000,
          framesVoted: decodedMrz.framesVoted,
          framesTried,
        }
      : { found: false, framesTried };
  }
  // face match: document portrait vs frontal frames of the face video
  if (f && d) {
    run('face.match_document', 2304, () => {
      const portrait = docs
        .map((x) => x.portrait)
        .filter(Boolean)
        .sort((a, b) => b!.score - a!.score)[0];
      const faceEmb = faceObs.filter((o) => o.embedding?.length);
      if (portrait && faceEmb.length) {
        const th = cfg.thresholds;
        const m = decideFaceMatch(
          portrait.embedding,
          faceEmb.map((o) => o.embedding!),
          th,
        );
        faceMatchEvidence = {
          distance: Math.round(m.distance * 1000) / 1000,
          acceptBelow: th.faceMatchAcceptDistance,
          refuseFrom: th.faceMatchRefuseDistance,
          model: FACE_MATCH_MODEL,
        };
        return {
          name: 'face.match_document',
          status: m.status,
          reason: 2304,
          measurement: {
            distance: faceMatchEvidence.distance,
            frameDistances: m.distances.map((x) => Math.round(x * 1000) / 1000),
            model: FACE_MATCH_MODEL,
            faceFrames: faceEmb.map((o) => o.frame),
          },
          threshold: {
            acceptBelow: th.faceMatchAcceptDistance,
            refuseFrom: th.faceMatchRefuseDistance,
            metric: 'euclidean distance, mean of the 2 closest face frames',
          },
        };
      }
      if (faceOk.length && docOk.length)
        return {
          name: 'face.match_document',
          status: 'inconclusive',
          reason: 2304,
          measurement: { portraitFound: !!portrait, faceEmbeddings: faceEmb.length },
          threshold: 'document portrait and face needed',
          note: 'face match not possible automatically',
        };
      return undefined;
    });
  }
  // key frames: one per document side, then the face
  for (const x of docs) {
    if (
      x.keyJpeg &&
      (x.step === 'document_front' || x.step === 'document_back') &&
      !keyFrames.some((k) => k.step === x.step)
    )
      keyFrames.push({ step: x.step, jpeg: x.keyJpeg });
  }
  if (f?.keyJpeg) keyFrames.push({ step: 'face', jpeg: f.keyJpeg });
  const errors = checks.filter((c) => c.error !== undefined).map((c) => ({ check: c.name, message: c.error }));
  if (errors.length) evidence.errors = errors;
  const v = decide(checks, { method: input.method, certifiedFraudCode2399: cfg.certifiedFraudCode2399 });
  const result = await finish(
    v,
    checks,
    evidence,
    extracted,
    keyFrames,
    faceMatchEvidence,
    input,
    cfg,
    partTimings,
    wallMs.startedAt,
    now,
  );
  // The face's template for repeat-fraud search in the back office: the mean of the frames'
  // descriptors. Biometric data: it leaves the engine beside the evidence, never inside it.
  const faceEmb = faceObs.filter((o) => o.embedding?.length);
  if (faceEmb.length) {
    const dim = faceEmb[0].embedding!.length;
    const mean = new Array<number>(dim).fill(0);
    for (const o of faceEmb) for (let k = 0; k < dim; k++) mean[k] += o.embedding![k] / faceEmb.length;
    result.faceDescriptor = mean.map((x) => Math.round(x * 1e5) / 1e5);
  }
  return result;
}

/** The check that could not run: inconclusive, never a pass, with what went wrong as its evidence. */
function errored(name: string, reason: number | undefined, e: unknown): CheckResult {
  const message = (e instanceof Error ? e.message : String(e)).slice(0, 500);
  return {
    name,
    status: 'inconclusive',
    reason,
    measurement: { error: message },
    threshold: 'the check runs to completion',
    note: 'the check failed to run: it counts as undecided (fail closed)',
    error: message,
  };
}

async function finish(
  v: ReturnType<typeof decide>,
  checks: CheckResult[],
  evidence: Record<string, unknown>,
  extracted: ExtractedIdentity | undefined,
  keyFrames: NonNullable<AnalysisResult['keyFrames']>,
  faceMatch: FaceMatchSummary | undefined,
  input: PartInput,
  cfg: EngineConfig,
  timings: Record<string, number>,
  startedAt: number,
  now: Date,
): Promise<AnalysisResult> {
  const inputs = input.media.map((m) => {
    let sha = m.sha256;
    let bytes: number | undefined;
    try {
      bytes = statSync(m.path).size;
      if (!sha) sha = sha256File(m.path);
    } catch {
      /* unreadable: recorded as given */
    }
    return { step: m.step, sha256: sha, bytes };
  });
  const s = performance.now();
  const report = await renderSynthesisReport({
    verificationId: input.verificationId,
    method: input.method,
    simulated: cfg.simulated,
    generatedAt: now,
    score: v.score,
    comment: v.comment,
    reasons: v.reasons.map((code) => ({ code, message: REASON_MESSAGES[code] ?? String(code) })),
    extracted,
    faceMatch,
    keyFrames: keyFrames.map((k) => ({ label: k.step, jpeg: k.jpeg })),
    inputs,
    checks: checks
      .filter((c) => c.status !== 'skipped')
      .map((c) => ({
        name: c.name,
        passed: c.status === 'pass',
        measurement: `${c.status}: ${fmtMeasure(c.measurement)}`,
        threshold: fmtMeasure(c.threshold),
      })),
    models: (evidence.models as { name: string; version: string }[]) ?? [],
  });
  // stage timings are CPU-side sums over both parts (which may have run in parallel); total is wall time
  timings.report = Math.round(performance.now() - s);
  timings.total = Math.round(performance.now() - startedAt);
  evidence.checks = checks;
  evidence.timingsMs = timings;
  evidence.inputs = inputs;
  evidence.reportSha256 = report.sha256;
  evidence.inconclusive = v.inconclusive;
  if (faceMatch) evidence.faceMatch = faceMatch;
  return {
    score: v.score,
    comment: v.comment,
    reasons: v.reasons,
    extracted,
    report: { pdf: report.pdf, sha256: report.sha256, simulated: cfg.simulated },
    keyFrames,
    evidence,
  };
}
