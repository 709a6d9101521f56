import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { issueToken } from '../../app/clients/issue-token.ts';
import { createLoginThrottle } from '../../app/clients/login-throttle.ts';
import type { AppDeps } from '../../app/deps.ts';
import { isKycError, KycError } from '../../domain/errors.ts';
import { errorResponses, optionalBody } from '../schemas.ts';

const str = Type.String();

/** Other parameters are ignored, as RFC 6749 §3.2 requires of unrecognised ones. */
const TokenBody = optionalBody(
  Type.Object({
    grant_type: Type.Optional(Type.String({ description: 'client_credentials' })),
    client_id: Type.Optional(str),
    client_secret: Type.Optional(str),
    scope: Type.Optional(Type.String({ description: 'Space-separated scopes: the token gets those also granted.' })),
  }),
);

const TokenResponse = Type.Object({
  token_type: Type.Optional(str),
  expires_in: Type.Optional(Type.Integer()),
  access_token: Type.Optional(str),
  scope: Type.Optional(str),
});

const badBasic = () =>
  new KycError('invalid_request', 'The HTTP Basic credentials are not valid percent-encoding (RFC 6749 §2.3.1).', {
    param: 'Authorization',
  });

/** Client credentials in HTTP Basic: each half form-urlencoded, then base64 (RFC 6749 §2.3.1). */
function basicCredentials(header: string | undefined): { client_id?: string; client_secret?: string } {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return {};
  const raw = Buffer.from(m[1], 'base64').toString('utf8');
  const i = raw.indexOf(':');
  if (i < 0) return {};
  try {
    const id = decodeURIComponent(raw.slice(0, i));
    const secret = decodeURIComponent(raw.slice(i + 1));
    if (id.includes('\u0000') || secret.includes('\u0000')) throw badBasic();
    return { client_id: id, client_secret: secret };
  } catch (e) {
    if (e instanceof URIError) throw badBasic();
    throw e;
  }
}

const oauthRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
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
        body: TokenBody,
        response: { 200: TokenResponse, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (req, reply) => {
      const body = req.body ?? {};
      const basic = basicCredentials(req.headers.authorization);
      const clientId = body.client_id ?? basic.client_id;
      const keys = [`ip:${req.ip}`, ...(clientId !== undefined ? [`client:${clientId}`] : [])];
      throttle.check(keys);
      try {
        const token = await issueToken(deps, {
          grant_type: body.grant_type,
          scope: body.scope,
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
};

export default oauthRoutes;
