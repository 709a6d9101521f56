import { KycError } from '../../domain/errors.ts';
import { buildRedirectUrl } from '../../domain/redirects.ts';
import { findById } from '../../storage/db/repo/verifications.ts';
import { listMediaSteps } from '../../storage/db/repo/capture.ts';
import type { AppDeps } from '../deps.ts';
import type { CaptureMetadata } from '../../domain/capture-metadata.ts';
import { commitTransition } from '../verifications/commit-transition.ts';
import { type DOCUMENT_TYPES, findByCaptureToken, requiredSteps } from './capture-session.ts';
import { discardPendingUploads } from './resumable-upload.ts';

/** What the capture app sends to finish, as the API has checked its shape (metadata: CaptureMetadataSchema). */
export interface CompleteInput {
  documentType?: (typeof DOCUMENT_TYPES)[number];
  documentCountry?: string;
  metadata?: CaptureMetadata | null;
}

export interface AbortInput {
  returnReason: string;
  errorType: string;
  metadata?: CaptureMetadata | null;
}

/** The end user finished filming: verification → processing, kycliveness.create, analysis job. */
export async function completeCapture(
  deps: AppDeps,
  token: unknown,
  input: CompleteInput | null,
): Promise<{ redirectUrl: string }> {
  const b = input ?? {};
  const metadata = b.metadata ?? {};
  const found = await findByCaptureToken(deps.db, token);
  const out = await deps.db.transaction(async (tx) => {
    const v = (await findById(tx, found.id, true))!;
    const docType = b.documentType ?? v.documentType ?? 'id_card';
    const have = new Set(await listMediaSteps(tx, v.id));
    const missing = requiredSteps(docType).filter((s) => !have.has(s));
    if (missing.length && v.state === 'initiated') {
      throw new KycError('conflict', `Upload ${missing.join(', ')} before completing.`, {
        details: { missingSteps: missing },
      });
    }
    const c = await commitTransition(tx, v, { type: 'complete' }, deps.clock.now(), {
      captureMetadata: metadata,
      documentType: docType,
      documentCountry: b.documentCountry,
    });
    return c;
  });
  if (out.queuedJobs) deps.wake.jobs();
  if (out.queuedWebhooks) deps.wake.webhooks();
  await discardPendingUploads(deps, found.id);
  return {
    redirectUrl: buildRedirectUrl(out.verification.redirectUrl, out.verification.id, {
      status: 'processing',
      returnReason: 'none',
      errorType: 'none',
    }),
  };
}

/** The end user left the flow (a documented redirect row): verification → aborted, kycliveness.create. */
export async function abortCapture(deps: AppDeps, token: unknown, b: AbortInput): Promise<{ redirectUrl: string }> {
  const metadata = b.metadata ?? {};
  const found = await findByCaptureToken(deps.db, token);
  const out = await deps.db.transaction(async (tx) => {
    const v = (await findById(tx, found.id, true))!;
    return commitTransition(
      tx,
      v,
      { type: 'abort', returnReason: b.returnReason, errorType: b.errorType },
      deps.clock.now(),
      { captureMetadata: metadata },
    );
  });
  if (out.queuedWebhooks) deps.wake.webhooks();
  await discardPendingUploads(deps, found.id);
  const v = out.verification;
  return {
    redirectUrl: buildRedirectUrl(v.redirectUrl, v.id, {
      status: 'aborted',
      returnReason: v.returnReason!,
      errorType: v.errorType!,
    }),
  };
}
