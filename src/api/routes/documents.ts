import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from '../../app/deps.ts';
import { createDownloadUrl, openDownload } from '../../app/documents/download-document.ts';
import { getDocument } from '../../app/documents/get-document.ts';
import { listDocuments } from '../../app/documents/list-documents.ts';
import { principal } from '../auth.ts';
import { DocumentIdParams, DocumentsResponse, errorResponses, PositiveId } from '../schemas.ts';
import { EXPECTED } from '../validation.ts';

/**
 * Treezor's "YYYY-MM-DD HH:mm:ss", or ISO 8601. Four-digit years keep every accepted date within
 * what PostgreSQL's timestamptz holds (a JavaScript date can reach 271821 BC: it answered 500).
 */
const DateParam = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:\\d{2})?)?$',
  [EXPECTED]: 'a date (YYYY-MM-DD HH:mm:ss or ISO 8601)',
});

const DocumentsQuery = Type.Object({
  documentId: Type.Optional(PositiveId),
  userId: Type.Optional(PositiveId),
  documentTypeId: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  documentStatus: Type.Optional(
    Type.Union([Type.Literal('PENDING'), Type.Literal('VALIDATED'), Type.Literal('CANCELED')]),
  ),
  documentTag: Type.Optional(Type.String({ maxLength: 250 })),
  createdDateFrom: Type.Optional(DateParam),
  createdDateTo: Type.Optional(DateParam),
  pageNumber: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  pageCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  sortOrder: Type.Optional(Type.String({ pattern: '^([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])$', [EXPECTED]: 'ASC or DESC' })),
  sortBy: Type.Optional(Type.Union([Type.Literal('createdDate'), Type.Literal('documentId')])),
});

const documentRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get(
    '/v1/documents',
    {
      config: { scopes: ['read_only', 'read_write'] },
      schema: {
        tags: ['documents'],
        summary: 'Search documents',
        querystring: DocumentsQuery,
        response: { 200: DocumentsResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => ({ documents: await listDocuments(deps.db, principal(req).clientId, req.query) }),
  );

  app.get(
    '/v1/documents/:documentId',
    {
      config: { scopes: ['read_only', 'read_write'] },
      schema: {
        tags: ['documents'],
        summary: 'Get a document',
        params: DocumentIdParams,
        response: { 200: DocumentsResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => ({ documents: [await getDocument(deps.db, principal(req).clientId, req.params.documentId)] }),
  );

  app.get(
    '/v1/documents/:documentId/download',
    {
      config: { scopes: ['read_only', 'read_write'] },
      schema: {
        tags: ['documents'],
        summary: 'Presigned download URL (valid 30 s)',
        params: DocumentIdParams,
        response: {
          200: Type.Object({ url: Type.Optional(Type.String()), expiresAt: Type.Optional(Type.String()) }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (req) => createDownloadUrl(deps, principal(req).clientId, req.params.documentId),
  );

  // The presigned URL itself: no bearer token, the signed token is the credential.
  app.get(
    '/files/documents/:token',
    {
      schema: {
        tags: ['documents'],
        summary: 'Download through a presigned URL',
        params: Type.Object({ token: Type.String() }),
      },
    },
    async (req, reply) => {
      const f = await openDownload(deps, req.params.token);
      reply
        .header('Content-Type', f.contentType)
        .header('Content-Disposition', `attachment; filename="${f.fileName}"`)
        .header('Cache-Control', 'private, no-store')
        .header('X-Content-Type-Options', 'nosniff');
      return reply.send(f.stream);
    },
  );
};

export default documentRoutes;
