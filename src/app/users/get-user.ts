import { KycError } from '../../domain/errors.ts';
import { toTreezorUser, type StoredUser } from '../../domain/user.ts';
import { findUser } from '../../storage/db/repo/users.ts';
import type { Queryable } from '../ports.ts';

export async function requireUser(
  q: Queryable,
  clientId: string,
  userId: number,
  forUpdate = false,
): Promise<StoredUser> {
  const u = await findUser(q, clientId, userId, forUpdate);
  if (!u) throw new KycError('not_found', 'User not found.', { param: 'userId' });
  return u;
}

export async function getUser(q: Queryable, clientId: string, userId: number): Promise<Record<string, unknown>> {
  return toTreezorUser(await requireUser(q, clientId, userId));
}
