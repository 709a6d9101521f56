import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app/deps.ts';
import { KycError } from '../domain/errors.ts';

declare module 'fastify' {
  interface FastifyRequest { accessTag?: { tag: string; fingerprint: string; replayed: boolean } }
}

const TTL_MS = 24 * 3600 * 1000;

/**
 * Treezor's accessTag: on a write, a tag already used by this client in the last 24 h returns the
 * first (successful) response instead of acting twice. The same tag on a different request is a
 * client bug and gets 409 rather than someone else's response.
 */
export function installIdempotency(app: FastifyInstance, deps: AppDeps): void {
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method === 'GET' || req.method === 'HEAD' || !req.principal) return;
    const tag = (req.query as Record<string, unknown> | undefined)?.accessTag;
    if (tag === undefined || tag === '') return;
    if (typeof tag !== 'string' || tag.length > 250) throw new KycError('invalid_request', 'accessTag must be a string of at most 250 characters.', { param: 'accessTag' });
    const fingerprint = createHash('sha256').update(`${req.method} ${req.url.split('?')[0].toLowerCase()} ${JSON.stringify(req.body ?? null)}`).digest('hex');
    const r = await deps.db.query<{ request_fingerprint: string; status: number; body: string; created_at: Date }>(
      'select request_fingerprint, status, body, created_at from idempotency_keys where client_id = $1 and access_tag = $2', [req.principal.clientId, tag],
    );
    const hit = r.rows[0];
    if (hit && deps.clock.now().getTime() - hit.created_at.getTime() < TTL_MS) {
      if (hit.request_fingerprint !== fingerprint) throw new KycError('conflict', 'This accessTag was already used for a different request.', { param: 'accessTag' });
      req.accessTag = { tag, fingerprint, replayed: true };
      reply.header('Kyclive-Replayed', 'true').header('content-type', 'application/json; charset=utf-8').status(hit.status);
      return reply.send(hit.body);
    }
    req.accessTag = { tag, fingerprint, replayed: false };
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const a = req.accessTag;
    if (!a || a.replayed || !req.principal || reply.statusCode >= 300 || typeof payload !== 'string') return payload;
    await deps.db.query(
      `insert into idempotency_keys (client_id, access_tag, request_fingerprint, status, body, created_at) values ($1, $2, $3, $4, $5, $6)
       on conflict (client_id, access_tag) do update set request_fingerprint = excluded.request_fingerprint, status = excluded.status,
         body = excluded.body, created_at = excluded.created_at where idempotency_keys.created_at < $6::timestamptz - interval '24 hours'`,
      [req.principal.clientId, a.tag, a.fingerprint, reply.statusCode, payload, deps.clock.now()],
    );
    return payload;
  });
}
