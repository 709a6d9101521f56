import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { issueToken } from '../../app/clients/issue-token.ts';
import type { AppDeps } from '../../app/deps.ts';
import { errorResponses } from '../schemas.ts';
import { createLoginThrottle } from '../../app/clients/login-throttle.ts';
import { isKycError } from '../../domain/errors.ts';

/** Client credentials in a form, multipart, JSON body, or HTTP Basic (RFC 6749 §2.3.1). */
function basicCredentials(header: string | undefined): { client_id?: string; client_secret?: string } {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return {};
  const raw = Buffer.from(m[1], 'base64').toString('utf8');
  const i = raw.indexOf(':');
  if (i < 0) return {};
  return { client_id: decodeURIComponent(raw.slice(0, i)), client_secret: decodeURIComponent(raw.slice(i + 1)) };
}

export default async function oauthRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }) {
  // Only here: the plugin's hooks then run on this context's requests, not on every request of the
  // API. The root answers multipart with 415 elsewhere (app.ts), a parser this context replaces.
  app.removeContentTypeParser('multipart/form-data');
  await app.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: 1024, files: 0, fields: 20 } });
  const throttle = createLoginThrottle(() => deps.clock.now().getTime());
  app.post(
    '/oauth/token',
    {
      schema: {
        tags: ['auth'],
        summary: 'Get an access token (client_credentials)',
        consumes: ['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json'],
        body: {
          type: 'object',
          properties: {
            grant_type: { type: 'string', enum: ['client_credentials'] },
            client_id: { type: 'string' },
            client_secret: { type: 'string' },
            scope: { type: 'string' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              token_type: { type: 'string' },
              expires_in: { type: 'integer' },
              access_token: { type: 'string' },
              scope: { type: 'string' },
            },
          },
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (req, reply) => {
      const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
      const basic = basicCredentials(req.headers.authorization);
      const clientId = body.client_id ?? basic.client_id;
      const keys = [`ip:${req.ip}`, ...(typeof clientId === 'string' ? [`client:${clientId}`] : [])];
      throttle.check(keys);
      try {
        const token = await issueToken(deps, {
          ...body,
          client_id: clientId,
          client_secret: body.client_secret ?? basic.client_secret,
        });
        reply.header('Cache-Control', 'no-store');
        return token;
      } catch (e) {
        if (isKycError(e) && e.code === 'invalid_client') throttle.fail(keys);
        throw e;
      }
    },
  );
}
