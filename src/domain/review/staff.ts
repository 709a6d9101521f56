/**
 * Who works in the back office, and what each role may do. Pure rules: the app checks them before
 * acting, and the same table decides what the back office shows.
 */
export const STAFF_ROLES = ['viewer', 'reviewer', 'checker', 'admin', 'auditor'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export interface StaffPrincipal {
  id: string;
  email: string;
  roles: readonly StaffRole[];
  /** The tenants (API client ids) this person works for; null: all of them. */
  tenants: readonly string[] | null;
}

export type StaffAction =
  | 'view_cases' // queues, case pages, documents
  | 'claim' // take a case for oneself
  | 'decide' // the (first) decision on a case
  | 'check' // approve or send back another person's decision (four-eyes)
  | 'assign' // give a case to someone
  | 'manage_staff' // accounts, roles, settings
  | 'read_audit'; // the audit log

const GRANTS: Record<StaffRole, readonly StaffAction[]> = {
  viewer: ['view_cases'],
  reviewer: ['view_cases', 'claim', 'decide'],
  checker: ['view_cases', 'claim', 'decide', 'check'],
  admin: ['view_cases', 'assign', 'manage_staff', 'read_audit'],
  auditor: ['view_cases', 'read_audit'],
};

export function can(staff: Pick<StaffPrincipal, 'roles'>, action: StaffAction): boolean {
  return staff.roles.some((r) => GRANTS[r].includes(action));
}

export function worksFor(staff: Pick<StaffPrincipal, 'tenants'>, clientId: string): boolean {
  return staff.tenants === null || staff.tenants.includes(clientId);
}
