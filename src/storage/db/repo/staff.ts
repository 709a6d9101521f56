import type { Queryable } from '../../../app/ports.ts';
import type { StaffRole } from '../../../domain/review/staff.ts';

export interface StaffRecord {
  id: string;
  email: string;
  name: string;
  roles: StaffRole[];
  tenants: string[] | null;
  createdAt: Date;
  disabled: boolean;
}

interface Row {
  id: string;
  email: string;
  name: string;
  roles: StaffRole[];
  tenants: string[] | null;
  created_at: Date;
  disabled_at: Date | null;
}

const toStaff = (r: Row): StaffRecord => ({
  id: r.id,
  email: r.email,
  name: r.name,
  roles: r.roles,
  tenants: r.tenants,
  createdAt: r.created_at,
  disabled: !!r.disabled_at,
});

const COLS = 'id, email, name, roles, tenants, created_at, disabled_at';

export async function insertStaff(
  q: Queryable,
  s: { id: string; email: string; name: string; roles: StaffRole[]; tenants: string[] | null; at: Date },
): Promise<StaffRecord> {
  const r = await q.query<Row>(
    `insert into staff (id, email, name, roles, tenants, created_at) values ($1, $2, $3, $4, $5, $6) returning ${COLS}`,
    [s.id, s.email, s.name, s.roles, s.tenants, s.at],
  );
  return toStaff(r.rows[0]);
}

export async function findStaff(q: Queryable, id: string): Promise<StaffRecord | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
  const r = await q.query<Row>(`select ${COLS} from staff where id = $1`, [id]);
  return r.rows[0] ? toStaff(r.rows[0]) : null;
}

export async function findStaffByEmail(q: Queryable, email: string): Promise<StaffRecord | null> {
  const r = await q.query<Row>(`select ${COLS} from staff where lower(email) = lower($1)`, [email]);
  return r.rows[0] ? toStaff(r.rows[0]) : null;
}

export async function listStaff(q: Queryable): Promise<StaffRecord[]> {
  const r = await q.query<Row>(`select ${COLS} from staff order by email`);
  return r.rows.map(toStaff);
}
