import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createHash, randomUUID } from 'node:crypto';
import {
  CERTIFIED_LIVENESS_RESULT_TYPE,
  LIVENESS_RESULT_TYPE,
  documentTypeIdForCapture,
} from '../../domain/document.ts';
import { listMedia, type MediaRecord } from '../../storage/db/repo/capture.ts';
import { type Artifact, insertArtifact } from '../../storage/db/repo/documents.ts';
import { resolveReviewSettings, reviewReason } from '../../domain/review/review-case.ts';
import { findClient } from '../../storage/db/repo/clients.ts';
import { findUser } from '../../storage/db/repo/users.ts';
import { findById, type Verification } from '../../storage/db/repo/verifications.ts';
import type { AppDeps } from '../deps.ts';
import type { AnalysisInput, AnalysisMedia, AnalysisResult, Analyzer } from '../ports.ts';
import { sealFaceDescriptor } from '../review/face-descriptor.ts';
import { verificationEvidenceHash } from '../review/evidence.ts';
import { commitTransition } from '../verifications/commit-transition.ts';
import { simulatedResult, type SimulatedOutcome } from './sandbox-analyzer.ts';

/** The media as the sandbox sees them: hashes for the report, nothing to decode. */
const unstaged = (media: MediaRecord[]): AnalysisMedia[] =>
  media.map((m) => ({ step: m.step, path: '', contentType: m.contentType, sha256: m.sha256 }));

const EXT: Record<string, string> = {
  'video/webm': 'webm',
  'video/x-matroska': 'mkv',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'image/jpeg': 'jpg',
  'image/png': 'png',
};

/**
 * The analysis.run job: decrypts the capture media into a private temp dir (ffmpeg needs files),
 * runs the analyzer, stores the report and key frames, and records the result. Safe to run twice
 * (a worker that died mid-job, a retry): the transition from processing happens once, so
 * kycliveness.update is emitted exactly once.
 */
export async function runAnalysis(
  deps: AppDeps,
  analyzer: Analyzer,
  verificationId: string,
  signal?: AbortSignal,
): Promise<'done' | 'skipped'> {
  const v = await findById(deps.db, verificationId);
  // Recorded already (a result waits for a human, or is final): a second run changes nothing.
  if (v?.state !== 'processing' || v.review) return 'skipped';
  const media = await listMedia(deps.db, v.id);
  const user = await findUser(deps.db, v.clientId, v.userId);
  const base: Omit<AnalysisInput, 'media'> = {
    verificationId: v.id,
    method: v.method,
    challenges: v.challenges,
    metadata: v.captureMetadata,
    expected:
      user?.fields.firstname && user.fields.lastname && user.fields.birthday
        ? { firstname: user.fields.firstname, lastname: user.fields.lastname, birthday: user.fields.birthday }
        : undefined,
    documentType: (v.documentType ?? undefined) as AnalysisInput['documentType'],
    documentCountry: v.documentCountry ?? undefined,
    tenant: v.clientId,
    signal,
  };
  let result: AnalysisResult;
  if (v.simulated) {
    const outcome = (v.analysis?.simulation ?? null) as SimulatedOutcome | null;
    result = await simulatedResult({ ...base, media: unstaged(media) }, outcome, deps.clock.now());
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'kyclive-analysis-'));
    try {
      const staged: AnalysisMedia[] = [];
      for (const m of media) {
        const path = join(dir, `${m.step}.${EXT[m.contentType] ?? 'bin'}`);
        await pipeline(await deps.blobs.get(m.blobKey), createWriteStream(path, { mode: 0o600 }));
        staged.push({ step: m.step, path, contentType: m.contentType, sha256: m.sha256 });
      }
      result = await analyzer.analyze({ ...base, media: staged });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  await recordAnalysis(deps, v, result);
  return 'done';
}

async function storeArtifact(
  deps: AppDeps,
  v: Verification,
  kind: string,
  typeId: number,
  name: string,
  contentType: string,
  body: Buffer,
  sha256?: string,
) {
  const key = `artifacts/${v.id}/${kind}-${randomUUID()}`;
  await deps.blobs.put(key, body, { contentType });
  const artifact: Artifact = {
    id: randomUUID(),
    verificationId: v.id,
    kind,
    documentTypeId: typeId,
    name,
    blobKey: key,
    contentType,
    bytes: body.length,
    sha256: sha256 ?? createHash('sha256').update(body).digest('hex'),
  };
  return artifact;
}

export async function recordAnalysis(deps: AppDeps, v: Verification, result: AnalysisResult): Promise<void> {
  const reportType = v.method === 'certified' ? CERTIFIED_LIVENESS_RESULT_TYPE : LIVENESS_RESULT_TYPE;
  const artifacts = [
    await storeArtifact(
      deps,
      v,
      'report',
      reportType,
      v.method === 'certified' ? 'certified_liveness_result.pdf' : 'liveness_result.pdf',
      'application/pdf',
      result.report.pdf,
      result.report.sha256,
    ),
  ];
  for (const k of result.keyFrames ?? []) {
    if (k.step === 'face') continue; // the face stays inside the report; Treezor has no document type for a selfie
    artifacts.push(
      await storeArtifact(
        deps,
        v,
        k.step,
        documentTypeIdForCapture(v.documentType),
        `${k.step}.jpg`,
        'image/jpeg',
        k.jpeg,
      ),
    );
  }
  const out = await deps.db
    .transaction(async (tx) => {
      const locked = await findById(tx, v.id, true);
      if (locked?.state !== 'processing' || locked.review) return null;
      for (const a of artifacts) await insertArtifact(tx, a);
      const automated = { score: result.score, reasons: result.reasons, comment: result.comment };
      const analysis = {
        ...(locked.analysis ?? {}),
        extracted: result.extracted ?? null,
        evidence: result.evidence,
        reportSha256: result.report.sha256,
        // kept beside the human decision when there is one
        automated,
        // the back office's repeat-fraud search: biometric, so sealed at rest
        ...(result.faceDescriptor
          ? { faceDescriptor: sealFaceDescriptor(deps.config.secret, result.faceDescriptor) }
          : {}),
      };
      const now = deps.clock.now();
      const client = await findClient(tx, locked.clientId);
      const settings = resolveReviewSettings(client?.reviewSettings);
      const queueReason = reviewReason(
        { method: locked.method, score: result.score, simulated: locked.simulated },
        settings,
        Math.random(),
      );
      const user = await findUser(tx, locked.clientId, locked.userId);
      return commitTransition(tx, locked, { type: 'analysis_done', ...automated, review: queueReason !== null }, now, {
        analysis,
        review: queueReason
          ? {
              queueReason,
              fourEyes: locked.method === 'certified' ? settings.fourEyes.certified : settings.fourEyes.liveness,
              recommendation: automated,
              evidenceHash: verificationEvidenceHash(result.report.sha256, user?.fields ?? {}),
              dueAt: new Date(now.getTime() + settings.slaHours.verification * 3600_000),
            }
          : undefined,
      });
    })
    .catch(async (e) => {
      for (const a of artifacts) await deps.blobs.delete(a.blobKey).catch(() => {});
      throw e;
    });
  if (!out) {
    // Superseded meanwhile, or another run won: drop what this run stored.
    for (const a of artifacts) await deps.blobs.delete(a.blobKey).catch(() => {});
    return;
  }
  if (out.queuedWebhooks) deps.wake.webhooks();
}

/** The job failed on every attempt: the integrator still gets its kycliveness.update (1901, human review). */
export async function recordAnalysisFailure(deps: AppDeps, verificationId: string): Promise<void> {
  const v = await findById(deps.db, verificationId);
  if (v?.state !== 'processing' || v.review) return;
  const media = await listMedia(deps.db, v.id);
  const r = await simulatedResult(
    { verificationId: v.id, method: v.method, challenges: v.challenges, metadata: {}, media: unstaged(media) },
    { score: -1, reasons: [1901], comment: 'The analysis failed repeatedly; human review required.' },
    deps.clock.now(),
    { simulated: false },
  );
  await recordAnalysis(deps, v, { ...r, evidence: { analyzer: 'none', failure: true } });
}
