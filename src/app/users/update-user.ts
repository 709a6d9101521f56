import { KycError } from '../../domain/errors.ts';
import { toTreezorUser, validateUserInput } from '../../domain/user.ts';
import { updateUserFields } from '../../storage/db/repo/users.ts';
import type { AppDeps } from '../deps.ts';
import { parseUserId } from './get-user.ts';

export async function updateUser(
  deps: AppDeps,
  clientId: string,
  rawUserId: unknown,
  body: unknown,
): Promise<Record<string, unknown>> {
  const userId = parseUserId(rawUserId);
  const fields = validateUserInput(body, 'update');
  const u = await updateUserFields(deps.db, clientId, userId, fields, deps.clock.now());
  if (!u) throw new KycError('not_found', 'User not found.', { param: 'userId' });
  return toTreezorUser(u);
}
