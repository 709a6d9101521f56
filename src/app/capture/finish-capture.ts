import { KycError } from '../../domain/errors.ts';
import { buildRedirectUrl } from '../../domain/redirects.ts';
import { findById } from '../../storage/db/repo/verifications.ts';
import type { AppDeps } from '../deps.ts';
import type { CaptureMetadata } from '../ports.ts';
import { commitTransition } from '../verifications/commit-transition.ts';
import { DOCUMENT_TYPES, findByCaptureToken, requiredSteps } from './capture-session.ts';
import { discardPendingUploads } from './resumable-upload.ts';

const MAX_METADATA_BYTES = 16 * 1024;

function parseMetadata(raw: unknown): CaptureMetadata {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new KycError('invalid_request', 'metadata must be an object.', { param: 'metadata' });
  if (JSON.stringify(raw).length > MAX_METADATA_BYTES)
    throw new KycError('invalid_request', `metadata must be at most ${MAX_METADATA_BYTES} bytes.`, {
      param: 'metadata',
    });
  const m = raw as Record<string, unknown>;
  if (m.webdriver !== undefined && typeof m.webdriver !== 'boolean')
    throw new KycError('invalid_request', 'metadata.webdriver must be a boolean.', { param: 'metadata.webdriver' });
  if (
    m.challengeShownAt !== undefined &&
    !(Array.isArray(m.challengeShownAt) && m.challengeShownAt.every((x) => Number.isFinite(x)))
  ) {
    throw new KycError('invalid_request', 'metadata.challengeShownAt must be an array of epoch milliseconds.', {
      param: 'metadata.challengeShownAt',
    });
  }
  return m as CaptureMetadata;
}

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
  const metadata = parseMetadata(b.metadata);
  const found = await findByCaptureToken(deps.db, token);
  const out = await deps.db.transaction(async (tx) => {
    const v = (await findById(tx, found.id, true))!;
    const docType = (b.documentType as string | undefined) ?? v.documentType ?? 'id_card';
    const have = new Set(
      (await tx.query<{ step: string }>('select step from capture_media where verification_id = $1', [v.id])).rows.map(
        (r) => r.step,
      ),
    );
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
  const metadata = parseMetadata(b.metadata);
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
