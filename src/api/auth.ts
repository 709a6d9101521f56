import type { FastifyReply, FastifyRequest } from 'fastify';
import { createAuthenticator, type Principal } from '../app/clients/authenticate.ts';
import type { AppDeps } from '../app/deps.ts';
import { KycError } from '../domain/errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    scopes?: readonly string[];
  }
}

/**
 * preHandler that authenticates the bearer token and enforces the route's scopes: any one of the
 * scopes the official spec lists for the operation (config.scopes on the route).
 */
export function authHook(deps: AppDeps) {
  const authenticate = createAuthenticator(deps);
  function admit(req: FastifyRequest, scopes: readonly string[], p: Principal, done: (err?: Error) => void): void {
    if (!scopes.some((s) => p.scopes.has(s))) {
      done(new KycError('forbidden_scope', `This endpoint requires one of these scopes: ${scopes.join(', ')}.`));
      return;
    }
    req.principal = p;
    done();
  }
  // Callback style, synchronous when the token is cached (see app.ts and authenticate.ts).
  return (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    const scopes = req.routeOptions.config.scopes;
    if (!scopes) return done();
    let p: Principal | Promise<Principal>;
    try {
      p = authenticate(req.headers.authorization);
    } catch (e) {
      return done(e as Error);
    }
    if (p instanceof Promise) p.then((x) => admit(req, scopes, x, done), done);
    else admit(req, scopes, p, done);
  };
}

export function principal(req: FastifyRequest): Principal {
  if (!req.principal) throw new KycError('unauthorized', 'Not authenticated.');
  return req.principal;
}
