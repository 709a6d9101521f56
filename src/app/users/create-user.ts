import { KycError } from '../../domain/errors.ts';
import { toTreezorUser, type UserInput, validateUserInput } from '../../domain/user.ts';
import { findUser, insertUser } from '../../storage/db/repo/users.ts';
import type { AppDeps } from '../deps.ts';

export async function createUser(deps: AppDeps, clientId: string, body: UserInput): Promise<Record<string, unknown>> {
  const fields = validateUserInput(body, 'create');
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    let parentId: number | null = null;
    if (fields.parentUserId) {
      parentId = Number(fields.parentUserId);
      // A parent from another tenant is "not found", like any other foreign id.
      if (!(await findUser(tx, clientId, parentId)))
        throw new KycError('invalid_request', 'parentUserId does not match any of your users.', {
          param: 'parentUserId',
        });
    }
    delete fields.parentUserId;
    const u = await insertUser(tx, clientId, fields, parentId, now);
    return toTreezorUser(u);
  });
}
