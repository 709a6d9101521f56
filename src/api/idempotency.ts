import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app/deps.ts';
import { KycError } from '../domain/errors.ts';
import { sha256Hex } from '../lib/secrets.ts';
import { reserveAccessTag, settleAccessTag } from '../app/access-tags/access-tag.ts';

declare module 'fastify' {
  interface FastifyRequest {
    accessTag?: { tag: string; fingerprint: string; replayed: boolean };
  }
}

/**
 * The body as the fingerprint reads it. A route without a body schema still parses whatever JSON
 * came, however deep: JSON.stringify recurses, and a body nested some thousands of levels deep
 * overflowed the stack (500).
 */
function bodyText(body: unknown): string {
  try {
    return JSON.stringify(body ?? null);
  } catch (e) {
    if (e instanceof RangeError) throw new KycError('invalid_request', 'The request body is nested too deeply.');
    throw e;
  }
}

/** HTTP side of Treezor's accessTag (the rule itself: app/access-tags/access-tag.ts). */
export function installIdempotency(app: FastifyInstance, deps: AppDeps): void {
  // Callback-style hooks that return at once when there is no tag (most requests): see app.ts.
  app.addHook('preHandler', (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    if (req.method === 'GET' || req.method === 'HEAD' || !req.principal) return done();
    const tag = (req.query as Record<string, unknown> | undefined)?.accessTag;
    if (tag === undefined || tag === '') return done();
    // A replayed response has been sent: the request goes no further, and done() is not called.
    claim(req, reply, tag).then(() => {
      if (!reply.sent) done();
    }, done);
  });

  async function claim(req: FastifyRequest, reply: FastifyReply, tag: unknown): Promise<void> {
    if (typeof tag !== 'string' || tag.length > 250)
      throw new KycError('invalid_request', 'accessTag must be a string of at most 250 characters.', {
        param: 'accessTag',
      });
    const fingerprint = sha256Hex(`${req.method} ${req.url.split('?')[0].toLowerCase()} ${bodyText(req.body)}`);
    const r = await reserveAccessTag(deps, { clientId: req.principal!.clientId, tag, fingerprint });
    req.accessTag = { tag, fingerprint, replayed: r.replay };
    if (!r.replay) return;
    // A replayed response is sent here: the request goes no further.
    reply.header('Kyclive-Replayed', 'true').header('content-type', 'application/json; charset=utf-8').status(r.status);
    reply.send(r.body);
  }

  app.addHook('onSend', (req, reply, payload, done) => {
    const a = req.accessTag;
    if (!a || a.replayed || !req.principal) return done(null, payload);
    const key = { clientId: req.principal.clientId, tag: a.tag, fingerprint: a.fingerprint };
    const ok = reply.statusCode < 300 && typeof payload === 'string';
    const settle = settleAccessTag(deps, key, ok ? { status: reply.statusCode, body: payload } : null);
    settle.then(
      () => done(null, payload),
      (e) => done(e),
    );
  });
}
