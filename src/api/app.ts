/**
 * The whole HTTP application as a function of its dependencies: no listen, no process state.
 * src/main/server.ts listens; tests call app.inject() or listen on a random port.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { parse as parseForm } from 'node:querystring';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { AppDeps } from '../app/deps.ts';
import { KycError } from '../domain/errors.ts';
import { authHook } from './auth.ts';
import { installErrorHandling, invalidJson } from './error-handler.ts';
import { installIdempotency } from './idempotency.ts';
import { ErrorBody } from './schemas.ts';
import { validatorCompiler } from './validation.ts';
import adminRoutes from './routes/admin.ts';
import brandingRoutes from './routes/branding.ts';
import captureRoutes from './routes/capture.ts';
import documentRoutes from './routes/documents.ts';
import kyclivenessRoutes from './routes/kycliveness.ts';
import oauthRoutes from './routes/oauth.ts';
import settingsRoutes from './routes/settings.ts';
import simulationRoutes from './routes/simulation.ts';
import userRoutes from './routes/users.ts';

export interface BuildOptions {
  logger?: boolean | object;
  /** Reports whether the service is ready (database reachable, not draining). */
  readiness?: () => Promise<boolean>;
}

// Treezor clients spell these segments Kycliveness/kycliveness and Kycreview/Kycreview/ (contract §1).
/**
 * One access line per request, when it completes, instead of Fastify's two ('incoming request' and
 * 'request completed'): each line is serialised and written synchronously on the event loop, and
 * both cost POST kycliveness 12 % of its throughput under load. The line carries the request
 * (method, masked path) as well as the response.
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error)
      reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/** A JSON body, whatever its content type said; an empty one is no body. */
function jsonBody(text: string): unknown {
  const s = text.trim();
  if (s === '') return undefined;
  try {
    return JSON.parse(s);
  } catch {
    throw invalidJson();
  }
}

const CASE_INSENSITIVE = /^\/v1\/users\/([^/?]+)\/(kycliveness|kycreview)(\/?)(\?.*)?$/i;

export async function buildApp(deps: AppDeps, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? false,
    logController: new AccessLog(),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{8,64}$/.test(given) ? given : randomUUID();
    },
    bodyLimit: 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
    rewriteUrl: (req) => {
      const url = req.url ?? '/';
      const m = CASE_INSENSITIVE.exec(url);
      if (!m) return url;
      const seg = m[2].toLowerCase() === 'kycreview' ? 'Kycreview' : 'kycliveness';
      return `/v1/users/${m[1]}/${seg}${m[4] ?? ''}`;
    },
  });
  // Every request part is checked against its route's TypeBox schema; a refusal becomes a precise
  // message in Treezor's format in the one error handler (validation.ts, error-handler.ts).
  app.setValidatorCompiler(validatorCompiler);
  // Hooks that run on every request are written with callbacks, not async: an async hook costs a
  // promise and a turn of the microtask queue per request even when it has nothing to do
  // (measured together with the multipart plugin's three, below: see docs/benchmarks.md).
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('X-Request-Id', req.id);
    done();
  });

  // Legacy clients send JSON with any or no content type (contract §4.1): accept anything that parses.
  const json = (_req: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    let value: unknown;
    try {
      value = jsonBody(body as string);
    } catch (e) {
      return done(e as Error, undefined);
    }
    done(null, value);
  };
  app.addContentTypeParser('*', { parseAs: 'string' }, json);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, json);
  // `curl -d '{…}'` and many HTTP clients label a JSON body as a form. A form body never starts with
  // { or [, so such a body is read as the JSON it is instead of becoming one odd form field.
  await app.register(formbody, {
    parser: (s: string) => (/^\s*[[{]/.test(s) ? jsonBody(s) : parseForm(s)) as Record<string, unknown>,
  });
  // multipart/form-data is the token endpoint's (routes/oauth.ts registers the plugin there): the
  // plugin adds three hooks to every request of the context it is registered in.
  app.addContentTypeParser('multipart/form-data', (_req, _payload, done) => {
    done(
      new KycError(
        'unsupported_media_type',
        'multipart/form-data is accepted by POST /oauth/token only: send JSON.',
      ) as never,
      undefined,
    );
  });

  installErrorHandling(app);
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'kyclive API',
        version: '0.1.0',
        description:
          'Self-hostable KYC live verification, wire-compatible with Treezor\'s live verification API. Numbers in Treezor objects are strings; inputs accept both. Errors use {"errors":[{type,code,message,docUrl,requestId}]}.',
      },
      components: {
        securitySchemes: {
          OAuth2: {
            type: 'oauth2',
            flows: {
              clientCredentials: {
                tokenUrl: '/oauth/token',
                scopes: { read_only: 'GET', read_write: 'writes', admin: 'configuration, sandbox', legal: 'users' },
              },
            },
          },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const scopes = (route.config as { scopes?: string[] } | undefined)?.scopes;
      const s = { ...(schema ?? {}) } as Record<string, unknown>;
      if (scopes) s.security = [{ OAuth2: scopes }];
      return { schema: s as never, url };
    },
    // @fastify/swagger marks every request body required; an optional one is "an object or null".
    transformObject: (doc) => {
      if (!('openapiObject' in doc)) return doc.swaggerObject;
      const { openapiObject } = doc;
      for (const ops of Object.values(openapiObject.paths ?? {}))
        for (const op of Object.values(ops ?? {}) as { requestBody?: { required?: boolean; content?: object } }[]) {
          const media = Object.values(op?.requestBody?.content ?? {}) as { schema?: { anyOf?: { type?: string }[] } }[];
          if (media.some((m) => m.schema?.anyOf?.some((x) => x.type === 'null'))) op.requestBody!.required = false;
        }
      return openapiObject;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } as object }, async () => app.swagger());

  app.get('/healthz', { schema: { hide: true } as object }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } as object }, async (_req, reply) => {
    const ok = opts.readiness ? await opts.readiness().catch(() => false) : true;
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready' });
  });

  // Authentication comes before validation, so that a caller without a valid token learns nothing
  // from the schema; accessTag claims a request only once it has passed validation (preHandler).
  app.addHook('preValidation', authHook(deps));
  installIdempotency(app, deps);

  for (const routes of [
    oauthRoutes,
    userRoutes,
    kyclivenessRoutes,
    documentRoutes,
    settingsRoutes,
    adminRoutes,
    simulationRoutes,
  ]) {
    await app.register(routes, { deps });
  }
  await app.register(brandingRoutes, { deps });
  await app.register(captureRoutes, { deps });
  return app;
}
