/**
 * Treezor's accessTag: on a write, a tag already used by this client in the last 24 h returns the
 * first (successful) response instead of acting twice. The same tag on a different request is a
 * client bug and gets 409 rather than someone else's response.
 *
 * The tag is reserved before the action runs, so that two copies of a request sent together (a
 * client retrying on its own timeout) cannot both act: the second gets 409 while the first is in
 * flight, and the first's response once it is stored. A refused request releases its reservation,
 * so the client can correct it and retry under the same tag. The HTTP side is src/api/idempotency.ts.
 */
import { KycError } from '../../domain/errors.ts';
import { completeTag, findTag, IN_FLIGHT, releaseTag, reserveTag } from '../../storage/db/repo/idempotency.ts';
import type { AppDeps } from '../deps.ts';

const TTL_MS = 24 * 3600 * 1000;
/**
 * How long a tag stays reserved by a request still in flight. Past it, the reservation is taken to
 * belong to a process that died mid-request and a retry may act: no write of this API runs that long.
 */
const IN_FLIGHT_LEASE_MS = 60_000;

export interface TagKey {
  clientId: string;
  tag: string;
  /** Hash of the request (method, path, body): the same tag on another request is refused. */
  fingerprint: string;
}

const stillInFlight = () =>
  new KycError(
    'conflict',
    'A request with this accessTag is still being processed: retry it in a moment to get its response.',
    { param: 'accessTag' },
  );

/** Reserves the tag for this request, or returns the response stored under it to replay. */
export async function reserveAccessTag(
  deps: AppDeps,
  key: TagKey,
): Promise<{ replay: false } | { replay: true; status: number; body: string }> {
  // Twice at most: a reservation released between our insert and our read is claimable again.
  for (let attempt = 0; attempt < 2; attempt++) {
    const now = deps.clock.now();
    const reserved = await reserveTag(deps.db, {
      ...key,
      now,
      completedSince: new Date(now.getTime() - TTL_MS),
      reservedSince: new Date(now.getTime() - IN_FLIGHT_LEASE_MS),
    });
    if (reserved) return { replay: false };
    const hit = await findTag(deps.db, key.clientId, key.tag);
    if (!hit) continue;
    if (hit.fingerprint !== key.fingerprint)
      throw new KycError('conflict', 'This accessTag was already used for a different request.', {
        param: 'accessTag',
      });
    if (hit.status === IN_FLIGHT) throw stillInFlight();
    return { replay: true, status: hit.status, body: hit.body };
  }
  throw stillInFlight();
}

/** Stores the response of a successful request under its tag, or releases the tag of a refused one. */
export async function settleAccessTag(
  deps: AppDeps,
  key: TagKey,
  response: { status: number; body: string } | null,
): Promise<void> {
  if (response) await completeTag(deps.db, key, response.status, response.body);
  else await releaseTag(deps.db, key);
}
