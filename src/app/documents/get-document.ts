import { toTreezorDocument } from '../../domain/document.ts';
import { KycError } from '../../domain/errors.ts';
import { findDocument, type DocumentRow } from '../../storage/db/repo/documents.ts';
import type { Queryable } from '../ports.ts';

export async function requireDocument(q: Queryable, clientId: string, documentId: number): Promise<DocumentRow> {
  const d = await findDocument(q, clientId, documentId);
  if (!d) throw new KycError('not_found', 'Document not found.', { param: 'documentId' });
  return d;
}

export async function getDocument(
  q: Queryable,
  clientId: string,
  documentId: number,
): Promise<Record<string, unknown>> {
  return toTreezorDocument(await requireDocument(q, clientId, documentId));
}
