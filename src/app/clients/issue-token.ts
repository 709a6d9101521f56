import { KycError } from '../../domain/errors.ts';
import { signJwt, subKey } from '../../lib/jwt.ts';
import { verifySecret } from '../../lib/secrets.ts';
import { findClient } from '../../storage/db/repo/clients.ts';
import type { AppDeps } from '../deps.ts';

export interface TokenRequest {
  grant_type?: unknown;
  client_id?: unknown;
  client_secret?: unknown;
  scope?: unknown;
}

/**
 * OAuth2 client_credentials. The token's scopes are the intersection of those asked for and those
 * granted (Treezor D-scopes); asking for none gives all granted ones. Unknown client and wrong
 * secret answer the same, so client ids cannot be probed.
 */
export async function issueToken(
  deps: AppDeps,
  req: TokenRequest,
): Promise<{ token_type: 'Bearer'; expires_in: number; access_token: string; scope: string }> {
  if (req.grant_type !== 'client_credentials') {
    throw new KycError('invalid_request', 'grant_type must be client_credentials.', {
      param: 'grant_type',
      details: { oauthError: 'unsupported_grant_type' },
    });
  }
  if (
    typeof req.client_id !== 'string' ||
    !req.client_id ||
    typeof req.client_secret !== 'string' ||
    !req.client_secret
  ) {
    throw new KycError('invalid_client', 'client_id and client_secret are required.', { param: 'client_id' });
  }
  const found = await findClient(deps.db, req.client_id);
  const c = found && !found.disabled ? found : null;
  const ok = c ? await verifySecret(req.client_secret, c.secretHash) : false;
  if (!c || !ok) throw new KycError('invalid_client', 'Invalid client credentials.');
  let scopes = c.scopes;
  if (req.scope !== undefined && req.scope !== '') {
    if (typeof req.scope !== 'string')
      throw new KycError('invalid_request', 'scope must be a space-separated string.', { param: 'scope' });
    const asked = req.scope.split(/\s+/).filter(Boolean);
    scopes = c.scopes.filter((s) => asked.includes(s));
    if (scopes.length === 0)
      throw new KycError('forbidden_scope', 'None of the requested scopes is granted to this client.', {
        param: 'scope',
      });
  }
  const now = Math.floor(deps.clock.now().getTime() / 1000);
  const ttl = deps.config.tokenTtlSeconds;
  const access_token = signJwt(
    { sub: c.id, scope: scopes.join(' '), sv: c.secretVersion, iat: now, exp: now + ttl },
    subKey(deps.config.secret, 'jwt'),
  );
  return { token_type: 'Bearer', expires_in: ttl, access_token, scope: scopes.join(' ') };
}
