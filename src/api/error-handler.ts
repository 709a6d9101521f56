import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isKycError, KycError } from '../domain/errors.ts';
import { ERROR_MAP, errorBody } from './error-map.ts';
import { type ValidationIssue, validationError } from './validation.ts';

export function invalidJson(): KycError {
  return new KycError('invalid_request', 'The request body is not valid JSON.');
}

/** Fastify's own 4xx errors (schema validation, body parsing, limits, content type) in our vocabulary. */
function fromFastify(e: FastifyError): KycError | null {
  const s = e.statusCode ?? 500;
  if (s >= 500) return null;
  if (e.validation) return validationError(e.validation as unknown as ValidationIssue[], e.validationContext ?? 'body');
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new KycError('payload_too_large', 'The request body is too large.');
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new KycError('unsupported_media_type', 'Unsupported Content-Type for this endpoint.');
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new KycError('invalid_request', 'The JSON body is empty.');
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e instanceof SyntaxError)
    return new KycError('invalid_request', 'The request body is not valid JSON.');
  if (s === 401) return new KycError('unauthorized', e.message);
  if (s === 403) return new KycError('forbidden_scope', e.message);
  if (s === 404) return new KycError('not_found', e.message);
  if (s === 413) return new KycError('payload_too_large', e.message);
  if (s === 415) return new KycError('unsupported_media_type', e.message);
  return new KycError('invalid_request', e.message);
}

export function installErrorHandling(app: FastifyInstance): void {
  // A response sent before the request body was fully received (a refused upload) leaves the rest
  // of the body on the socket; on a kept-alive connection it would be parsed as the next request.
  app.addHook('onSend', (req, reply, payload, done) => {
    if (!req.raw.complete) reply.header('Connection', 'close');
    done(null, payload);
  });
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const k = isKycError(err) ? err : fromFastify(err);
    if (!k) {
      // Full detail in the log, nothing internal in the body.
      req.log.error({ err }, 'unhandled error');
      const m = ERROR_MAP.internal;
      return reply.status(500).send(
        errorBody(req.id, {
          type: m.type,
          code: m.code,
          message: 'Internal error. Quote the requestId when contacting support.',
        }),
      );
    }
    const m = ERROR_MAP[k.code];
    if (m.status >= 500) req.log.error({ err: k }, 'server error');
    else req.log.info({ code: k.code, status: m.status }, 'request refused');
    const body: Record<string, unknown> = errorBody(req.id, {
      type: m.type,
      code: m.code,
      message: k.message,
      param: k.param,
    });
    // OAuth2 client libraries (e.g. golang.org/x/oauth2) read RFC 6749 error fields at the token endpoint.
    if (req.routeOptions.url === '/oauth/token') {
      body.error =
        (k.details?.oauthError as string | undefined) ??
        (k.code === 'invalid_client'
          ? 'invalid_client'
          : k.code === 'forbidden_scope'
            ? 'invalid_scope'
            : 'invalid_request');
      body.error_description = k.message;
    }
    if (k.code === 'unauthorized' || k.code === 'invalid_client') reply.header('WWW-Authenticate', 'Bearer');
    if (typeof k.details?.retryAfterSeconds === 'number')
      reply.header('Retry-After', String(k.details.retryAfterSeconds));
    return reply.status(m.status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const m = ERROR_MAP.not_found;
    reply
      .status(404)
      .send(
        errorBody(req.id, { type: m.type, code: m.code, message: `No route ${req.method} ${req.url.split('?')[0]}.` }),
      );
  });
}
