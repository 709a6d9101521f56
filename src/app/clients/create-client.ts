import { KycError } from '../../domain/errors.ts';
import { hashSecret, randomToken } from '../../lib/secrets.ts';
import { insertClient } from '../../storage/db/repo/clients.ts';
import type { Queryable } from '../ports.ts';
import { isScope, type Scope } from './scopes.ts';

export interface CreatedClient {
  clientId: string;
  clientSecret: string;
  treezorClientId: number;
  name: string;
  scopes: Scope[];
}

/** Creates a client (= a tenant). The secret is returned once and only its hash is kept. */
export async function createClient(
  db: Queryable,
  input: { name: unknown; scopes: unknown; method?: unknown },
): Promise<CreatedClient> {
  if (typeof input.name !== 'string' || !input.name.trim() || input.name.length > 100) {
    throw new KycError('invalid_request', 'The name field must be a non-empty string of at most 100 characters.', {
      param: 'name',
    });
  }
  const scopes = typeof input.scopes === 'string' ? input.scopes.split(/[\s,]+/).filter(Boolean) : input.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string' && isScope(s))) {
    throw new KycError(
      'invalid_request',
      'The scopes field must list scopes among read_only, read_write, read_all, admin, legal, keys.',
      { param: 'scopes' },
    );
  }
  const method = input.method ?? 'liveness';
  if (method !== 'liveness' && method !== 'certified') {
    throw new KycError('invalid_request', 'The method field must be liveness or certified.', { param: 'method' });
  }
  const clientId = `kcl_${randomToken(12)}`;
  const clientSecret = `kcs_${randomToken(32)}`;
  const uniq = [...new Set(scopes as Scope[])];
  const { treezorClientId } = await insertClient(db, {
    id: clientId,
    name: input.name.trim(),
    secretHash: await hashSecret(clientSecret),
    scopes: uniq,
    method,
  });
  return {
    clientId,
    clientSecret,
    treezorClientId,
    name: input.name.trim(),
    scopes: uniq,
  };
}
