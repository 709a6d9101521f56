import { listClients as listAll } from '../../storage/db/repo/clients.ts';
import type { Queryable } from '../ports.ts';

export async function listClients(
  db: Queryable,
): Promise<{ clientId: string; name: string; scopes: string[]; method: string; createdAt: Date; disabled: boolean }[]> {
  return (await listAll(db)).map((c) => ({
    clientId: c.id,
    name: c.name,
    scopes: c.scopes,
    method: c.method,
    createdAt: c.createdAt,
    disabled: c.disabled,
  }));
}
