import { toTreezorDocument } from '../../domain/document.ts';
import { KycError } from '../../domain/errors.ts';
import { listDocuments as list, type DocumentFilter } from '../../storage/db/repo/documents.ts';
import type { Queryable } from '../ports.ts';

/** GET /v1/documents's query, as the API has checked its shape (integers, enumerations, date format). */
export interface DocumentQuery {
  documentId?: number;
  userId?: number;
  documentTypeId?: number;
  documentStatus?: 'PENDING' | 'VALIDATED' | 'CANCELED';
  documentTag?: string;
  createdDateFrom?: string;
  createdDateTo?: string;
  pageNumber?: number;
  pageCount?: number;
  sortOrder?: string;
  sortBy?: 'createdDate' | 'documentId';
}

/** A date that exists (the format alone lets 2024-13-01 through). */
function dateParam(v: string | undefined, name: string): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v.replace(' ', 'T'));
  if (Number.isNaN(d.getTime()))
    throw new KycError('invalid_request', `${name} must be a date (YYYY-MM-DD HH:mm:ss or ISO 8601).`, { param: name });
  return d;
}

/** GET /v1/documents with Treezor's filters and paging (always scoped to the caller's tenant). */
export async function listDocuments(
  q: Queryable,
  clientId: string,
  query: DocumentQuery,
): Promise<Record<string, unknown>[]> {
  const f: DocumentFilter = {
    documentId: query.documentId,
    userId: query.userId,
    documentTypeId: query.documentTypeId,
    documentStatus: query.documentStatus,
    documentTag: query.documentTag,
    createdDateFrom: dateParam(query.createdDateFrom, 'createdDateFrom'),
    createdDateTo: dateParam(query.createdDateTo, 'createdDateTo'),
    pageNumber: query.pageNumber ?? 1,
    pageCount: query.pageCount ?? 50,
    // Written into the SQL text: only ever one of these two words.
    sortOrder: query.sortOrder?.toUpperCase() === 'ASC' ? 'ASC' : 'DESC',
    sortBy: query.sortBy === 'documentId' ? 'documentId' : 'createdDate',
  };
  return (await list(q, clientId, f)).map(toTreezorDocument);
}
