/**
 * A queue of the back office: the cases in progress (or closed ones, for the record) of the staff
 * member's tenants, filtered, searched, sorted and paged on the server, with the SLA state of each.
 * Listing shows names: it is audited (the filter, never the names).
 */
import { KycError } from '../../domain/errors.ts';
import type { CaseKind, CaseState, QueueReason } from '../../domain/review/review-case.ts';
import { can, type StaffPrincipal, worksFor } from '../../domain/review/staff.ts';
import { countQueues, listQueue } from '../../storage/db/repo/review-cases.ts';
import { audit } from '../audit/audit.ts';
import type { AppDeps } from '../deps.ts';

export interface QueueQuery {
  kind?: CaseKind;
  /** in_progress (open and pending_check, the default), pending_check, closed, cancelled. */
  status?: 'in_progress' | 'open' | 'pending_check' | 'closed' | 'cancelled';
  clientId?: string;
  method?: 'liveness' | 'certified';
  queueReason?: QueueReason;
  /** 'me', 'none' or a staff id. */
  assignee?: string;
  reasonCode?: number;
  /** Only cases older than this many hours. */
  olderThanHours?: number;
  overdue?: boolean;
  search?: string;
  sort?: 'due' | 'opened' | 'updated';
  order?: 'asc' | 'desc';
  page?: number;
  pageSize?: number;
}

const STATES: Record<NonNullable<QueueQuery['status']>, CaseState[]> = {
  in_progress: ['open', 'pending_check'],
  open: ['open'],
  pending_check: ['pending_check'],
  closed: ['closed'],
  cancelled: ['cancelled'],
};

export async function listReviewQueue(
  deps: AppDeps,
  staff: StaffPrincipal,
  q: QueueQuery,
  ctx: { sourceIp?: string } = {},
) {
  if (!can(staff, 'view_cases')) throw new KycError('forbidden', 'Your role cannot see cases.');
  // A tenant filter outside one's tenants finds nothing, as an unknown tenant would.
  const tenants = q.clientId && !worksFor(staff, q.clientId) ? [] : staff.tenants;
  const now = deps.clock.now();
  const pageSize = Math.min(Math.max(q.pageSize ?? 25, 1), 100);
  const page = Math.max(q.page ?? 1, 1);
  const r = await listQueue(deps.db, {
    tenants,
    kind: q.kind,
    states: STATES[q.status ?? 'in_progress'],
    clientId: q.clientId,
    method: q.method,
    queueReason: q.queueReason,
    assignee: q.assignee === 'me' ? staff.id : q.assignee,
    reasonCode: q.reasonCode,
    openedBefore: q.olderThanHours !== undefined ? new Date(now.getTime() - q.olderThanHours * 3600_000) : undefined,
    overdueAt: q.overdue ? now : undefined,
    search: q.search?.trim() || undefined,
    sort: q.sort ?? 'due',
    order: q.order ?? 'asc',
    limit: pageSize,
    offset: (page - 1) * pageSize,
  });
  await deps.db.transaction((tx) =>
    audit(tx, {
      at: now,
      actorType: 'staff',
      actorId: staff.id,
      action: 'queue.view',
      sourceIp: ctx.sourceIp,
      details: { filter: { ...q, search: q.search ? '(search)' : undefined }, results: r.rows.length },
    }),
  );
  return {
    total: r.total,
    page,
    pageSize,
    cases: r.rows.map((c) => ({
      id: c.id,
      kind: c.kind,
      state: c.state,
      queueReason: c.queueReason,
      method: c.method,
      clientId: c.clientId,
      clientName: c.clientName,
      userId: c.userId,
      name: `${c.firstname} ${c.lastname}`.trim(),
      email: c.email,
      recommendation: c.recommendation,
      assignee: c.assignee,
      fourEyes: c.fourEyes,
      openedAt: c.openedAt,
      dueAt: c.dueAt,
      overdue: (c.state === 'open' || c.state === 'pending_check') && c.dueAt.getTime() < now.getTime(),
      slaRemainingMinutes: Math.round((c.dueAt.getTime() - now.getTime()) / 60_000),
    })),
  };
}

/** The counters of the queues: cases waiting per kind and state, and how many are past their SLA. */
export async function countReviewQueues(deps: AppDeps, staff: StaffPrincipal) {
  if (!can(staff, 'view_cases')) throw new KycError('forbidden', 'Your role cannot see cases.');
  return countQueues(deps.db, staff.tenants, deps.clock.now());
}
