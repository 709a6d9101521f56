import { toTreezorDocument } from '../../domain/document.ts';
import { KycError } from '../../domain/errors.ts';
import { listDocuments as list, type DocumentFilter } from '../../storage/db/repo/documents.ts';
import type { Queryable } from '../ports.ts';

function intParam(q: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  const s = String(v);
  if (!/^\d{1,15}$/.test(s) || Number(s) < min || Number(s) > max)
    throw new KycError('invalid_request', `${name} must be an integer between ${min} and ${max}.`, { param: name });
  return Number(s);
}

function dateParam(q: Record<string, unknown>, name: string): Date | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  const d = new Date(String(v).replace(' ', 'T'));
  if (Number.isNaN(d.getTime()))
    throw new KycError('invalid_request', `${name} must be a date (YYYY-MM-DD HH:mm:ss or ISO 8601).`, { param: name });
  return d;
}

/** GET /v1/documents with Treezor's filters and paging (always scoped to the caller's tenant). */
export async function listDocuments(
  q: Queryable,
  clientId: string,
  query: Record<string, unknown>,
): Promise<Record<string, unknown>[]> {
  const sortOrder = String(query.sortOrder ?? 'DESC').toUpperCase();
  if (sortOrder !== 'ASC' && sortOrder !== 'DESC')
    throw new KycError('invalid_request', 'sortOrder must be ASC or DESC.', { param: 'sortOrder' });
  const sortBy = String(query.sortBy ?? 'createdDate');
  if (sortBy !== 'createdDate' && sortBy !== 'documentId')
    throw new KycError('invalid_request', 'sortBy must be createdDate or documentId.', { param: 'sortBy' });
  const status = query.documentStatus;
  if (status !== undefined && !['PENDING', 'VALIDATED', 'CANCELED'].includes(String(status)))
    throw new KycError('invalid_request', 'documentStatus must be PENDING, VALIDATED or CANCELED.', {
      param: 'documentStatus',
    });
  const f: DocumentFilter = {
    documentId: intParam(query, 'documentId', 1, Number.MAX_SAFE_INTEGER),
    userId: intParam(query, 'userId', 1, Number.MAX_SAFE_INTEGER),
    documentTypeId: intParam(query, 'documentTypeId', 1, 1000),
    documentStatus: status === undefined ? undefined : String(status),
    documentTag: query.documentTag === undefined ? undefined : String(query.documentTag),
    createdDateFrom: dateParam(query, 'createdDateFrom'),
    createdDateTo: dateParam(query, 'createdDateTo'),
    pageNumber: intParam(query, 'pageNumber', 1, 1_000_000) ?? 1,
    pageCount: intParam(query, 'pageCount', 1, 200) ?? 50,
    sortOrder,
    sortBy,
  };
  return (await list(q, clientId, f)).map(toTreezorDocument);
}
