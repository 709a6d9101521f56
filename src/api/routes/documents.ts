import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { createDownloadUrl, openDownload } from '../../app/documents/download-document.ts';
import { getDocument } from '../../app/documents/get-document.ts';
import { listDocuments } from '../../app/documents/list-documents.ts';
import { principal } from '../auth.ts';
import { documentIdParams, DocumentsResponse, errorResponses } from '../schemas.ts';

export default async function documentRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }) {
  app.get(
    '/v1/documents',
    {
      config: { scopes: ['read_only', 'read_write'] },
      schema: {
        tags: ['documents'],
        summary: 'Search documents',
        response: { 200: DocumentsResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => ({
      documents: await listDocuments(deps.db, principal(req).clientId, req.query as Record<string, unknown>),
    }),
  );

  app.get(
    '/v1/documents/:documentId',
    {
      config: { scopes: ['read_only', 'read_write'] },
      schema: {
        tags: ['documents'],
        summary: 'Get a document',
        params: documentIdParams,
        response: { 200: DocumentsResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => ({
      documents: [
        await getDocument(deps.db, principal(req).clientId, (req.params as { documentId: string }).documentId),
      ],
    }),
  );

  app.get(
    '/v1/documents/:documentId/download',
    {
      config: { scopes: ['read_only', 'read_write'] },
      schema: {
        tags: ['documents'],
        summary: 'Presigned download URL (valid 30 s)',
        params: documentIdParams,
        response: {
          200: { type: 'object', properties: { url: { type: 'string' }, expiresAt: { type: 'string' } } },
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (req) => createDownloadUrl(deps, principal(req).clientId, (req.params as { documentId: string }).documentId),
  );

  // The presigned URL itself: no bearer token, the signed token is the credential.
  app.get(
    '/files/documents/:token',
    { schema: { tags: ['documents'], summary: 'Download through a presigned URL' } },
    async (req, reply) => {
      const f = await openDownload(deps, (req.params as { token: string }).token);
      reply
        .header('Content-Type', f.contentType)
        .header('Content-Disposition', `attachment; filename="${f.fileName}"`)
        .header('Cache-Control', 'private, no-store')
        .header('X-Content-Type-Options', 'nosniff');
      return reply.send(f.stream);
    },
  );
}
