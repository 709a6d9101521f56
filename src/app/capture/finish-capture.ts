import { KycError } from '../../domain/errors.ts';
import { buildRedirectUrl } from '../../domain/redirects.ts';
import { findById } from '../../storage/db/repo/verifications.ts';
import { listMediaSteps } from '../../storage/db/repo/capture.ts';
import type { AppDeps } from '../deps.ts';
import { parseCaptureMetadata } from '../../domain/capture-metadata.ts';
import { commitTransition } from '../verifications/commit-transition.ts';
import { DOCUMENT_TYPES, findByCaptureToken, requiredSteps } from './capture-session.ts';
import { discardPendingUploads } from './resumable-upload.ts';

function asObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new KycError('invalid_request', 'The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

/** The end user finished filming: verification → processing, kycliveness.create, analysis job. */
export async function completeCapture(deps: AppDeps, token: unknown, body: unknown): Promise<{ redirectUrl: string }> {
  const b = asObject(body);
  if (b.documentType !== undefined && !(DOCUMENT_TYPES as readonly unknown[]).includes(b.documentType)) {
    throw new KycError('invalid_request', `documentType must be one of ${DOCUMENT_TYPES.join(', ')}.`, {
      param: 'documentType',
    });
  }
  if (
    b.documentCountry !== undefined &&
    !(typeof b.documentCountry === 'string' && /^[A-Z]{2,3}$/.test(b.documentCountry))
  ) {
    throw new KycError('invalid_request', 'documentCountry must be an ISO 3166 alpha-2 or alpha-3 code.', {
      param: 'documentCountry',
    });
  }
  const metadata = parseCaptureMetadata(b.metadata);
  const found = await findByCaptureToken(deps.db, token);
  const out = await deps.db.transaction(async (tx) => {
    const v = (await findById(tx, found.id, true))!;
    const docType = (b.documentType as string | undefined) ?? v.documentType ?? 'id_card';
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
      documentCountry: b.documentCountry as string | undefined,
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
export async function abortCapture(deps: AppDeps, token: unknown, body: unknown): Promise<{ redirectUrl: string }> {
  const b = asObject(body);
  const metadata = parseCaptureMetadata(b.metadata);
  const found = await findByCaptureToken(deps.db, token);
  const out = await deps.db.transaction(async (tx) => {
    const v = (await findById(tx, found.id, true))!;
    return commitTransition(
      tx,
      v,
      { type: 'abort', returnReason: String(b.returnReason ?? ''), errorType: String(b.errorType ?? '') },
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
