import { KycError } from '../../domain/errors.ts';
import { hashSecret, randomToken } from '../../lib/secrets.ts';
import type { Queryable } from '../ports.ts';

/** New secret; bumping secret_version makes every token issued under the old one invalid at once. */
export async function rotateClientSecret(
  db: Queryable,
  clientId: string,
): Promise<{ clientId: string; clientSecret: string }> {
  const clientSecret = `kcs_${randomToken(32)}`;
  const r = await db.query(
    `update clients set secret_hash = $2, secret_version = secret_version + 1 where id = $1 and disabled_at is null`,
    [clientId, await hashSecret(clientSecret)],
  );
  if (r.rowCount === 0) throw new KycError('not_found', 'No such client.');
  return { clientId, clientSecret };
}
