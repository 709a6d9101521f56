import type { Readable } from 'node:stream';
import { signUrlToken, verifyUrlToken } from '../../lib/signed-url.ts';
import { subKey } from '../../lib/jwt.ts';
import { findDocument } from '../../storage/db/repo/documents.ts';
import { KycError } from '../../domain/errors.ts';
import type { AppDeps } from '../deps.ts';
import { requireDocument } from './get-document.ts';

const PURPOSE = 'document.download';

/**
 * GET /v1/documents/{id}/download → a presigned URL valid downloadUrlTtlSeconds (30 s). Blobs are
 * encrypted at rest, so the URL points at kyclive itself, which checks the signature and expiry
 * and decrypts on the fly; the URL is good for this one document only.
 */
export async function createDownloadUrl(
  deps: AppDeps,
  clientId: string,
  documentId: number,
): Promise<{ url: string; expiresAt: string }> {
  const d = await requireDocument(deps.db, clientId, documentId);
  const expiresAt = Math.floor(deps.clock.now().getTime() / 1000) + deps.config.downloadUrlTtlSeconds;
  const token = signUrlToken(
    { purpose: PURPOSE, resource: String(d.id), tenant: clientId, expiresAt },
    subKey(deps.config.secret, 'presign'),
  );
  return {
    url: `${deps.config.publicBaseUrl}/files/documents/${token}`,
    expiresAt: new Date(expiresAt * 1000).toISOString(),
  };
}

export async function openDownload(
  deps: AppDeps,
  token: unknown,
): Promise<{ stream: Readable; contentType: string; fileName: string; bytes: number }> {
  if (typeof token !== 'string' || token.length > 1024)
    throw new KycError('signature_invalid', 'This download link is invalid.');
  const claims = verifyUrlToken(
    token,
    { purpose: PURPOSE },
    subKey(deps.config.secret, 'presign'),
    Math.floor(deps.clock.now().getTime() / 1000),
  );
  const d = await findDocument(deps.db, claims.tenant, Number(claims.resource));
  if (!d) throw new KycError('not_found', 'Document not found.');
  return {
    stream: await deps.blobs.get(d.blobKey),
    contentType: d.contentType,
    fileName: `${d.id}.${d.fileExtension}`,
    bytes: d.bytes,
  };
}
