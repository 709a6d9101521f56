import { KycError } from '../../domain/errors.ts';
import { subKey, verifyJwt } from '../../lib/jwt.ts';
import { findClient } from '../../storage/db/repo/clients.ts';
import type { AppDeps } from '../deps.ts';

export interface Principal {
  clientId: string;
  scopes: ReadonlySet<string>;
}

interface ClientState {
  version: number;
  disabled: boolean;
  at: number;
}

/**
 * Verifies a bearer token. The client's secret version and status are cached for a few seconds:
 * rotation or disabling takes effect within CLIENT_STATE_TTL_MS on every process, and the hot
 * path does no database round trip.
 */
export const CLIENT_STATE_TTL_MS = 5000;
/**
 * In the last second of an entry's life, a request still gets the cached state and starts one
 * reload in the background. Without it, under load, every request in flight when an entry expired
 * read the clients table at once (72 reads in an 8 s bench:api run instead of 2), each behind the
 * database's queue: a stall of a few milliseconds for ~50 requests every 5 s, seen in the p99.
 */
const REFRESH_AHEAD_MS = 1000;

/**
 * Tokens already verified, by their exact text: an integrator reuses one token for an hour, so the
 * HMAC, the base64 and the JSON of a token are done once, not on every request (about 4 % of the
 * event loop under POST kycliveness load). Expiry and the client's state are still checked on
 * every request. Bounded: a flood of distinct tokens only costs a clear.
 */
const VERIFIED_TOKENS_MAX = 10_000;

interface Verified {
  clientId: string;
  scopes: ReadonlySet<string>;
  version: unknown;
  exp: number;
}

export function createAuthenticator(deps: AppDeps) {
  const key = subKey(deps.config.secret, 'jwt');
  const cache = new Map<string, ClientState>();
  const verified = new Map<string, Verified>();

  function verify(token: string, nowSeconds: number): Verified | null {
    const hit = verified.get(token);
    if (hit) return hit.exp > nowSeconds ? hit : null;
    const claims = verifyJwt(token, key, nowSeconds);
    if (!claims || typeof claims.sub !== 'string' || typeof claims.scope !== 'string') return null;
    const v: Verified = {
      clientId: claims.sub,
      scopes: new Set(claims.scope.split(' ')),
      version: claims.sv,
      exp: claims.exp as number,
    };
    if (verified.size >= VERIFIED_TOKENS_MAX) verified.clear();
    verified.set(token, v);
    return v;
  }

  /** One read per client at a time, shared by every request that needs it (single flight). */
  const loading = new Map<string, Promise<ClientState | null>>();

  function load(clientId: string, nowMs: number): Promise<ClientState | null> {
    let p = loading.get(clientId);
    if (p) return p;
    p = (async () => {
      const c = await findClient(deps.db, clientId);
      if (!c) {
        cache.delete(clientId);
        return null;
      }
      const s = { version: c.secretVersion, disabled: c.disabled, at: nowMs };
      cache.set(clientId, s);
      return s;
    })().finally(() => loading.delete(clientId));
    loading.set(clientId, p);
    return p;
  }

  function clientState(clientId: string, nowMs: number): ClientState | null | Promise<ClientState | null> {
    const hit = cache.get(clientId);
    const age = hit ? nowMs - hit.at : Infinity;
    if (age >= CLIENT_STATE_TTL_MS) return load(clientId, nowMs);
    // A failed background reload is not this request's failure: the entry is still valid, and a
    // request after its expiry reads again and reports the error.
    if (age >= CLIENT_STATE_TTL_MS - REFRESH_AHEAD_MS && !loading.has(clientId)) load(clientId, nowMs).catch(() => {});
    return hit!;
  }

  function admit(t: Verified, st: ClientState | null): Principal {
    if (!st || st.disabled || st.version !== t.version)
      throw new KycError('unauthorized', 'The access token is no longer valid.');
    return { clientId: t.clientId, scopes: t.scopes };
  }

  /**
   * Synchronous when the token and its client's state are cached (nearly every request): the
   * caller then goes on without a turn of the microtask queue. Refusals are thrown, or rejected
   * when the client's state had to be read.
   */
  return function authenticate(authorization: string | undefined): Principal | Promise<Principal> {
    if (!authorization)
      throw new KycError(
        'unauthorized',
        'Missing Authorization header: use Authorization: Bearer <access_token> from POST /oauth/token.',
      );
    const m = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!m) throw new KycError('unauthorized', 'The Authorization header must be "Bearer <access_token>".');
    const nowMs = deps.clock.now().getTime();
    const t = verify(m[1], Math.floor(nowMs / 1000));
    if (!t) throw new KycError('unauthorized', 'The access token is invalid or expired.');
    const st = clientState(t.clientId, nowMs);
    return st instanceof Promise ? st.then((s) => admit(t, s)) : admit(t, st);
  };
}
