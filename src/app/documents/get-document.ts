import { toTreezorDocument } from '../../domain/document.ts';
import { KycError } from '../../domain/errors.ts';
import { findDocument, type DocumentRow } from '../../storage/db/repo/documents.ts';
import type { Queryable } from '../ports.ts';

export function parseDocumentId(raw: unknown): number {
  const s = String(raw ?? '');
  if (!/^[1-9]\d{0,14}$/.test(s))
    throw new KycError('invalid_request', 'The documentId must be a positive integer.', { param: 'documentId' });
  return Number(s);
}

export async function requireDocument(q: Queryable, clientId: string, raw: unknown): Promise<DocumentRow> {
  const d = await findDocument(q, clientId, parseDocumentId(raw));
  if (!d) throw new KycError('not_found', 'Document not found.', { param: 'documentId' });
  return d;
}

export async function getDocument(q: Queryable, clientId: string, raw: unknown): Promise<Record<string, unknown>> {
  return toTreezorDocument(await requireDocument(q, clientId, raw));
}
