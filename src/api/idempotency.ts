import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app/deps.ts';
import { KycError } from '../domain/errors.ts';
import { sha256Hex } from '../lib/secrets.ts';

declare module 'fastify' {
  interface FastifyRequest {
    accessTag?: { tag: string; fingerprint: string; replayed: boolean };
  }
}

const TTL_MS = 24 * 3600 * 1000;
/**
 * How long a tag stays reserved by a request still in flight. Past it, the reservation is taken to
 * belong to a process that died mid-request and a retry may act: no write of this API runs that long.
 */
const IN_FLIGHT_LEASE_MS = 60_000;
const IN_FLIGHT = 0;
const stillInFlight = () =>
  new KycError(
    'conflict',
    'A request with this accessTag is still being processed: retry it in a moment to get its response.',
    { param: 'accessTag' },
  );

/**
 * Treezor's accessTag: on a write, a tag already used by this client in the last 24 h returns the
 * first (successful) response instead of acting twice. The same tag on a different request is a
 * client bug and gets 409 rather than someone else's response.
 *
 * The tag is reserved before the action runs (status 0), so that two copies of a request sent
 * together (a client retrying on its own timeout) cannot both act: the second gets 409 while the
 * first is in flight, and the first's response once it is stored. A refused request releases its
 * reservation, so the client can correct it and retry under the same tag.
 */
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
    const fingerprint = sha256Hex(
      `${req.method} ${req.url.split('?')[0].toLowerCase()} ${JSON.stringify(req.body ?? null)}`,
    );
    const clientId = req.principal!.clientId;
    // Twice at most: a reservation released between our insert and our read is claimable again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const now = deps.clock.now();
      const claimed = await deps.db.query(
        `insert into idempotency_keys (client_id, access_tag, request_fingerprint, status, body, created_at) values ($1, $2, $3, ${IN_FLIGHT}, '', $4)
         on conflict (client_id, access_tag) do update set request_fingerprint = excluded.request_fingerprint, status = ${IN_FLIGHT}, body = '', created_at = excluded.created_at
          where (idempotency_keys.status <> ${IN_FLIGHT} and idempotency_keys.created_at <= $5)
             or (idempotency_keys.status = ${IN_FLIGHT} and idempotency_keys.created_at <= $6)
         returning 1`,
        [
          clientId,
          tag,
          fingerprint,
          now,
          new Date(now.getTime() - TTL_MS),
          new Date(now.getTime() - IN_FLIGHT_LEASE_MS),
        ],
      );
      if (claimed.rowCount > 0) {
        req.accessTag = { tag, fingerprint, replayed: false };
        return;
      }
      const r = await deps.db.query<{ request_fingerprint: string; status: number; body: string }>(
        'select request_fingerprint, status, body from idempotency_keys where client_id = $1 and access_tag = $2',
        [clientId, tag],
      );
      const hit = r.rows[0];
      if (!hit) continue;
      if (hit.request_fingerprint !== fingerprint)
        throw new KycError('conflict', 'This accessTag was already used for a different request.', {
          param: 'accessTag',
        });
      if (hit.status === IN_FLIGHT) throw stillInFlight();
      req.accessTag = { tag, fingerprint, replayed: true };
      reply
        .header('Kyclive-Replayed', 'true')
        .header('content-type', 'application/json; charset=utf-8')
        .status(hit.status);
      reply.send(hit.body);
      return;
    }
    throw stillInFlight();
  }

  app.addHook('onSend', (req, reply, payload, done) => {
    const a = req.accessTag;
    if (!a || a.replayed || !req.principal) return done(null, payload);
    const key = [req.principal.clientId, a.tag, a.fingerprint];
    const settle =
      reply.statusCode < 300 && typeof payload === 'string'
        ? deps.db.query(
            `update idempotency_keys set status = $4, body = $5 where client_id = $1 and access_tag = $2 and request_fingerprint = $3 and status = ${IN_FLIGHT}`,
            [...key, reply.statusCode, payload],
          )
        : deps.db.query(
            `delete from idempotency_keys where client_id = $1 and access_tag = $2 and request_fingerprint = $3 and status = ${IN_FLIGHT}`,
            key,
          );
    settle.then(
      () => done(null, payload),
      (e) => done(e),
    );
  });
}
