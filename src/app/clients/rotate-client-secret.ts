import { KycError } from '../../domain/errors.ts';
import { hashSecret, randomToken } from '../../lib/secrets.ts';
import { rotateSecret } from '../../storage/db/repo/clients.ts';
import type { Queryable } from '../ports.ts';

/** New secret; bumping secret_version makes every token issued under the old one invalid at once. */
export async function rotateClientSecret(
  db: Queryable,
  clientId: string,
): Promise<{ clientId: string; clientSecret: string }> {
  const clientSecret = `kcs_${randomToken(32)}`;
  if (!(await rotateSecret(db, clientId, await hashSecret(clientSecret))))
    throw new KycError('not_found', 'No such client.');
  return { clientId, clientSecret };
}
