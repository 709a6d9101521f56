import type { Queryable } from '../../../app/ports.ts';
import type { StoredDocument } from '../../../domain/document.ts';

const COLS = `d.id, c.treezor_client_id, d.user_id, u.fields->>'firstname' as firstname, u.fields->>'lastname' as lastname,
  d.document_type_id, d.document_tag, d.document_status, d.name, d.file_extension, d.created_at, d.modified_at,
  d.blob_key, d.content_type, d.bytes, d.sha256`;
const FROM = `from documents d join clients c on c.id = d.client_id join users u on u.id = d.user_id`;

export interface DocumentRow extends StoredDocument {
  blobKey: string;
  contentType: string;
  bytes: number;
  sha256: string;
}

// biome-ignore lint/suspicious/noExplicitAny: a database row, mapped field by field
function toDoc(r: Record<string, any>): DocumentRow {
  return {
    id: r.id,
    clientNumericId: r.treezor_client_id,
    userId: r.user_id,
    userFirstname: r.firstname ?? '',
    userLastname: r.lastname ?? '',
    documentTypeId: r.document_type_id,
    documentTag: r.document_tag,
    documentStatus: r.document_status,
    name: r.name,
    fileExtension: r.file_extension,
    createdAt: r.created_at,
    modifiedAt: r.modified_at,
    blobKey: r.blob_key,
    contentType: r.content_type,
    bytes: r.bytes,
    sha256: r.sha256,
  };
}

export async function findDocument(q: Queryable, clientId: string, id: number): Promise<DocumentRow | null> {
  const r = await q.query(`select ${COLS} ${FROM} where d.id = $1 and d.client_id = $2`, [id, clientId]);
  return r.rows[0] ? toDoc(r.rows[0]) : null;
}

export interface DocumentFilter {
  documentId?: number;
  userId?: number;
  documentTypeId?: number;
  documentStatus?: string;
  documentTag?: string;
  createdDateFrom?: Date;
  createdDateTo?: Date;
  pageNumber: number;
  pageCount: number;
  sortOrder: 'ASC' | 'DESC';
  sortBy: 'documentId' | 'createdDate';
}

export async function listDocuments(q: Queryable, clientId: string, f: DocumentFilter): Promise<DocumentRow[]> {
  const where = ['d.client_id = $1'];
  const vals: unknown[] = [clientId];
  const add = (sql: string, v: unknown) => {
    vals.push(v);
    where.push(sql.replace('?', `$${vals.length}`));
  };
  if (f.documentId !== undefined) add('d.id = ?', f.documentId);
  if (f.userId !== undefined) add('d.user_id = ?', f.userId);
  if (f.documentTypeId !== undefined) add('d.document_type_id = ?', f.documentTypeId);
  if (f.documentStatus !== undefined) add('d.document_status = ?', f.documentStatus);
  if (f.documentTag !== undefined) add('d.document_tag = ?', f.documentTag);
  if (f.createdDateFrom) add('d.created_at >= ?', f.createdDateFrom);
  if (f.createdDateTo) add('d.created_at <= ?', f.createdDateTo);
  const order = `${f.sortBy === 'createdDate' ? 'd.created_at' : 'd.id'} ${f.sortOrder}`;
  vals.push(f.pageCount, (f.pageNumber - 1) * f.pageCount);
  const r = await q.query(
    `select ${COLS} ${FROM} where ${where.join(' and ')} order by ${order}, d.id ${f.sortOrder} limit $${vals.length - 1} offset $${vals.length}`,
    vals,
  );
  return r.rows.map(toDoc);
}

export async function listDocumentsOfUsers(q: Queryable, clientId: string, userIds: number[]): Promise<DocumentRow[]> {
  const r = await q.query(
    `select ${COLS} ${FROM} where d.client_id = $1 and d.user_id = any($2::bigint[]) order by d.id`,
    [clientId, userIds],
  );
  return r.rows.map(toDoc);
}

export async function listDocumentsOfVerification(
  q: Queryable,
  clientId: string,
  verificationId: string,
): Promise<DocumentRow[]> {
  const r = await q.query(`select ${COLS} ${FROM} where d.client_id = $1 and d.verification_id = $2 order by d.id`, [
    clientId,
    verificationId,
  ]);
  return r.rows.map(toDoc);
}

/**
 * Copies a verification's artifacts into the user's documents, in capture order; an artifact
 * already imported is skipped (artifact_id is unique). Returns the ids of the documents created.
 */
export async function importArtifacts(
  q: Queryable,
  clientId: string,
  userId: number,
  verificationId: string,
  now: Date,
): Promise<number[]> {
  const r = await q.query<{ id: number }>(
    `insert into documents (client_id, user_id, verification_id, artifact_id, document_type_id, name, file_extension, blob_key, content_type, bytes, sha256, created_at)
     select $1, $2, a.verification_id, a.id, a.document_type_id, a.name,
            case a.content_type when 'application/pdf' then 'pdf' when 'image/png' then 'png' else 'jpg' end,
            a.blob_key, a.content_type, a.bytes, a.sha256, $4
       from verification_artifacts a where a.verification_id = $3
       order by case a.kind when 'document_front' then 1 when 'document_back' then 2 when 'face' then 3 else 4 end
     on conflict (artifact_id) do nothing returning id`,
    [clientId, userId, verificationId, now],
  );
  return r.rows.map((x) => x.id);
}

export interface Artifact {
  id: string;
  verificationId: string;
  kind: string;
  documentTypeId: number;
  name: string;
  blobKey: string;
  contentType: string;
  bytes: number;
  sha256: string;
}

export async function insertArtifact(q: Queryable, a: Artifact): Promise<void> {
  await q.query(
    `insert into verification_artifacts (id, verification_id, kind, document_type_id, name, blob_key, content_type, bytes, sha256)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [a.id, a.verificationId, a.kind, a.documentTypeId, a.name, a.blobKey, a.contentType, a.bytes, a.sha256],
  );
}

export async function listArtifacts(q: Queryable, verificationId: string): Promise<Artifact[]> {
  const r = await q.query<{
    id: string;
    verification_id: string;
    kind: string;
    document_type_id: number;
    name: string;
    blob_key: string;
    content_type: string;
    bytes: number;
    sha256: string;
  }>(
    `select id, verification_id, kind, document_type_id, name, blob_key, content_type, bytes, sha256
       from verification_artifacts where verification_id = $1 order by created_at, kind`,
    [verificationId],
  );
  return r.rows.map((x) => ({
    id: x.id,
    verificationId: x.verification_id,
    kind: x.kind,
    documentTypeId: x.document_type_id,
    name: x.name,
    blobKey: x.blob_key,
    contentType: x.content_type,
    bytes: x.bytes,
    sha256: x.sha256,
  }));
}
