import { KycError } from '../../domain/errors.ts';
import { toTreezorUser, type UserInput, validateUserInput } from '../../domain/user.ts';
import { updateUserFields } from '../../storage/db/repo/users.ts';
import type { AppDeps } from '../deps.ts';
import { refreshCaseEvidence } from '../review/refresh-case-evidence.ts';

export async function updateUser(
  deps: AppDeps,
  clientId: string,
  userId: number,
  body: UserInput,
): Promise<Record<string, unknown>> {
  const fields = validateUserInput(body, 'update');
  const now = deps.clock.now();
  const u = await deps.db.transaction(async (tx) => {
    const updated = await updateUserFields(tx, clientId, userId, fields, now);
    // A review resting on the declared identity must see the change (four eyes on the same evidence).
    if (updated) await refreshCaseEvidence(tx, clientId, userId, now);
    return updated;
  });
  if (!u) throw new KycError('not_found', 'User not found.', { param: 'userId' });
  return toTreezorUser(u);
}
