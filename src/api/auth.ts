import type { FastifyReply, FastifyRequest } from 'fastify';
import { createAuthenticator, type Principal } from '../app/clients/authenticate.ts';
import type { AppDeps } from '../app/deps.ts';
import { KycError } from '../domain/errors.ts';

declare module 'fastify' {
  interface FastifyRequest { principal?: Principal }
  interface FastifyContextConfig { scopes?: readonly string[] }
}

/**
 * preHandler that authenticates the bearer token and enforces the route's scopes: any one of the
 * scopes the official spec lists for the operation (config.scopes on the route).
 */
export function authHook(deps: AppDeps) {
  const authenticate = createAuthenticator(deps);
  return async function (req: FastifyRequest, _reply: FastifyReply) {
    const scopes = req.routeOptions.config.scopes;
    if (!scopes) return;
    const p = await authenticate(req.headers.authorization);
    if (!scopes.some((s) => p.scopes.has(s))) {
      throw new KycError('forbidden_scope', `This endpoint requires one of these scopes: ${scopes.join(', ')}.`);
    }
    req.principal = p;
  };
}

export function principal(req: FastifyRequest): Principal {
  if (!req.principal) throw new KycError('unauthorized', 'Not authenticated.');
  return req.principal;
}
