import type { Queryable } from '../ports.ts';

export async function listClients(
  db: Queryable,
): Promise<{ clientId: string; name: string; scopes: string[]; method: string; createdAt: Date; disabled: boolean }[]> {
  const r = await db.query<{
    id: string;
    name: string;
    scopes: string[];
    verification_method: string;
    created_at: Date;
    disabled_at: Date | null;
  }>(`select id, name, scopes, verification_method, created_at, disabled_at from clients order by created_at, id`);
  return r.rows.map((x) => ({
    clientId: x.id,
    name: x.name,
    scopes: x.scopes,
    method: x.verification_method,
    createdAt: x.created_at,
    disabled: !!x.disabled_at,
  }));
}
