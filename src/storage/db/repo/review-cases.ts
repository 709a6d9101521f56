/** Review cases: the compliance staff's work (domain/review/review-case.ts). */
import type { Queryable } from '../../../app/ports.ts';
import type {
  CaseKind,
  CasePatch,
  CaseSnapshot,
  CaseState,
  Decision,
  Proposal,
  QueueReason,
} from '../../../domain/review/review-case.ts';

export interface ReviewCase extends CaseSnapshot {
  clientId: string;
  verificationId: string | null;
  userId: number;
  queueReason: QueueReason;
  recommendation: { score: number; reasons: number[]; comment: string } | null;
  assignedAt: Date | null;
  decision: (Decision & { by: string; checkedBy: string | null; at: string }) | null;
  openedAt: Date;
  dueAt: Date;
  closedAt: Date | null;
  updatedAt: Date;
}

interface Row {
  id: string;
  client_id: string;
  kind: CaseKind;
  verification_id: string | null;
  user_id: number;
  state: CaseState;
  queue_reason: QueueReason;
  method: 'liveness' | 'certified' | null;
  recommendation: ReviewCase['recommendation'];
  four_eyes: boolean;
  assignee: string | null;
  assigned_at: Date | null;
  proposal: Proposal | null;
  decision: ReviewCase['decision'];
  evidence_hash: string | null;
  opened_at: Date;
  due_at: Date;
  closed_at: Date | null;
  updated_at: Date;
}

const toCase = (r: Row): ReviewCase => ({
  id: r.id,
  clientId: r.client_id,
  kind: r.kind,
  verificationId: r.verification_id,
  userId: r.user_id,
  state: r.state,
  queueReason: r.queue_reason,
  method: r.method,
  recommendation: r.recommendation,
  fourEyes: r.four_eyes,
  assignee: r.assignee,
  assignedAt: r.assigned_at,
  proposal: r.proposal,
  decision: r.decision,
  evidenceHash: r.evidence_hash,
  openedAt: r.opened_at,
  dueAt: r.due_at,
  closedAt: r.closed_at,
  updatedAt: r.updated_at,
});

export interface NewCase {
  id: string;
  clientId: string;
  kind: CaseKind;
  verificationId: string | null;
  userId: number;
  queueReason: QueueReason;
  method: 'liveness' | 'certified' | null;
  recommendation: ReviewCase['recommendation'];
  fourEyes: boolean;
  evidenceHash: string | null;
  openedAt: Date;
  dueAt: Date;
}

/** Opens a case; a verification that already has one keeps it (returns false). */
export async function insertCase(q: Queryable, c: NewCase): Promise<boolean> {
  const r = await q.query(
    `insert into review_cases (id, client_id, kind, verification_id, user_id, state, queue_reason, method, recommendation, four_eyes,
                               evidence_hash, opened_at, due_at, updated_at)
     values ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10, $11, $12, $11)
     on conflict do nothing`,
    [
      c.id,
      c.clientId,
      c.kind,
      c.verificationId,
      c.userId,
      c.queueReason,
      c.method,
      c.recommendation === null ? null : JSON.stringify(c.recommendation),
      c.fourEyes,
      c.evidenceHash,
      c.openedAt,
      c.dueAt,
    ],
  );
  return r.rowCount > 0;
}

export async function findCase(q: Queryable, id: string, forUpdate = false): Promise<ReviewCase | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
  const r = await q.query<Row>(`select * from review_cases where id = $1${forUpdate ? ' for update' : ''}`, [id]);
  return r.rows[0] ? toCase(r.rows[0]) : null;
}

export async function findCaseOfVerification(
  q: Queryable,
  verificationId: string,
  forUpdate = false,
): Promise<ReviewCase | null> {
  const r = await q.query<Row>(
    `select * from review_cases where verification_id = $1${forUpdate ? ' for update' : ''}`,
    [verificationId],
  );
  return r.rows[0] ? toCase(r.rows[0]) : null;
}

export async function findOpenKycCase(q: Queryable, userId: number, forUpdate = false): Promise<ReviewCase | null> {
  const r = await q.query<Row>(
    `select * from review_cases where user_id = $1 and kind = 'kyc_review' and state in ('open', 'pending_check')${forUpdate ? ' for update' : ''}`,
    [userId],
  );
  return r.rows[0] ? toCase(r.rows[0]) : null;
}

const PATCH_COLUMNS: Record<keyof CasePatch, string> = {
  state: 'state',
  assignee: 'assignee',
  assignedAt: 'assigned_at',
  proposal: 'proposal',
  decision: 'decision',
  evidenceHash: 'evidence_hash',
  closedAt: 'closed_at',
};

export async function applyCasePatch(q: Queryable, id: string, patch: CasePatch, now: Date): Promise<void> {
  const sets: string[] = [];
  const vals: unknown[] = [id];
  for (const [k, col] of Object.entries(PATCH_COLUMNS)) {
    const v = (patch as Record<string, unknown>)[k];
    if (v === undefined) continue;
    vals.push(k === 'proposal' || k === 'decision' ? (v === null ? null : JSON.stringify(v)) : v);
    sets.push(`${col} = $${vals.length}`);
  }
  if (sets.length === 0) return;
  vals.push(now);
  sets.push(`updated_at = $${vals.length}`);
  await q.query(`update review_cases set ${sets.join(', ')} where id = $1`, vals);
}

export interface QueueFilter {
  /** The tenants to look in; null: every tenant. */
  tenants: readonly string[] | null;
  kind?: CaseKind;
  states: readonly CaseState[];
  clientId?: string;
  method?: 'liveness' | 'certified';
  queueReason?: QueueReason;
  /** A staff id, or 'none' for unassigned cases. */
  assignee?: string;
  /** Cases whose automated recommendation carries this reason code. */
  reasonCode?: number;
  /** Opened before this (age filter). */
  openedBefore?: Date;
  /** Past their due time at `now`. */
  overdueAt?: Date;
  /** User id, e-mail, name or document number. */
  search?: string;
  sort: 'due' | 'opened' | 'updated';
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

export interface QueueRow extends ReviewCase {
  firstname: string;
  lastname: string;
  email: string;
  clientName: string;
}

function where(f: QueueFilter): { sql: string; vals: unknown[] } {
  const conds = ['c.state = any($1::text[])'];
  const vals: unknown[] = [[...f.states]];
  const add = (sql: string, v: unknown) => {
    vals.push(v);
    conds.push(sql.replaceAll('?', `$${vals.length}`));
  };
  if (f.tenants !== null) add('c.client_id = any(?::text[])', [...f.tenants]);
  if (f.kind) add('c.kind = ?', f.kind);
  if (f.clientId) add('c.client_id = ?', f.clientId);
  if (f.method) add('c.method = ?', f.method);
  if (f.queueReason) add('c.queue_reason = ?', f.queueReason);
  if (f.assignee === 'none') conds.push('c.assignee is null');
  else if (f.assignee) add('c.assignee = ?::uuid', f.assignee);
  if (f.reasonCode !== undefined) add(`c.recommendation->'reasons' @> to_jsonb(array[?::int])`, f.reasonCode);
  if (f.openedBefore) add('c.opened_at < ?', f.openedBefore);
  if (f.overdueAt) add('c.due_at < ?', f.overdueAt);
  if (f.search) {
    const s = f.search.trim();
    if (/^\d{1,15}$/.test(s)) add('c.user_id = ?::bigint', Number(s));
    else
      add(
        `(u.fields->>'email' ilike ? or (coalesce(u.fields->>'firstname', '') || ' ' || coalesce(u.fields->>'lastname', '')) ilike ?
          or v.analysis->'extracted'->>'documentNumber' = upper(trim(both '%' from ?)))`,
        `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
      );
  }
  return { sql: conds.join(' and '), vals };
}

const ORDER: Record<QueueFilter['sort'], string> = { due: 'c.due_at', opened: 'c.opened_at', updated: 'c.updated_at' };

export async function listQueue(q: Queryable, f: QueueFilter): Promise<{ rows: QueueRow[]; total: number }> {
  const w = where(f);
  const from = `from review_cases c join users u on u.client_id = c.client_id and u.id = c.user_id
                join clients cl on cl.id = c.client_id left join verifications v on v.id = c.verification_id`;
  const total = await q.query<{ n: number }>(`select count(*)::int as n ${from} where ${w.sql}`, w.vals);
  const r = await q.query<Row & { fields: Record<string, string>; client_name: string }>(
    `select c.*, u.fields, cl.name as client_name ${from} where ${w.sql}
      order by ${ORDER[f.sort]} ${f.order === 'asc' ? 'asc' : 'desc'}, c.id limit $${w.vals.length + 1} offset $${w.vals.length + 2}`,
    [...w.vals, f.limit, f.offset],
  );
  return {
    total: total.rows[0].n,
    rows: r.rows.map((x) => ({
      ...toCase(x),
      firstname: x.fields?.firstname ?? '',
      lastname: x.fields?.lastname ?? '',
      email: x.fields?.email ?? '',
      clientName: x.client_name,
    })),
  };
}

/** Cases waiting per kind, and how many are past their due time: the queues' counters. */
export async function countQueues(
  q: Queryable,
  tenants: readonly string[] | null,
  now: Date,
): Promise<{ kind: CaseKind; state: CaseState; waiting: number; overdue: number }[]> {
  const r = await q.query<{ kind: CaseKind; state: CaseState; waiting: number; overdue: number }>(
    `select kind, state, count(*)::int as waiting, count(*) filter (where due_at < $2)::int as overdue
       from review_cases where state in ('open', 'pending_check') and ($1::text[] is null or client_id = any($1::text[]))
      group by kind, state order by kind, state`,
    [tenants === null ? null : [...tenants], now],
  );
  return r.rows;
}

/** Other users, among the given tenants, whose verification read this document number. */
export async function findUsersWithDocumentNumber(
  q: Queryable,
  tenants: readonly string[] | null,
  documentNumber: string,
  exceptUserId: number,
): Promise<{ clientId: string; userId: number; verificationId: string; caseId: string | null }[]> {
  const r = await q.query<{ client_id: string; user_id: number; id: string; case_id: string | null }>(
    `select v.client_id, v.user_id, v.id, c.id as case_id from verifications v left join review_cases c on c.verification_id = v.id
      where v.analysis->'extracted'->>'documentNumber' = $1 and v.user_id <> $2
        and ($3::text[] is null or v.client_id = any($3::text[]))
      order by v.created_at desc limit 50`,
    [documentNumber, exceptUserId, tenants === null ? null : [...tenants]],
  );
  return r.rows.map((x) => ({ clientId: x.client_id, userId: x.user_id, verificationId: x.id, caseId: x.case_id }));
}

/** The sealed face descriptors of other users' verifications, among the given tenants, newest first. */
export async function listSealedFaceDescriptors(
  q: Queryable,
  tenants: readonly string[] | null,
  exceptUserId: number,
  limit: number,
): Promise<{ clientId: string; userId: number; verificationId: string; caseId: string | null; sealed: string }[]> {
  const r = await q.query<{ client_id: string; user_id: number; id: string; case_id: string | null; sealed: string }>(
    `select v.client_id, v.user_id, v.id, c.id as case_id, v.analysis->>'faceDescriptor' as sealed
       from verifications v left join review_cases c on c.verification_id = v.id
      where v.analysis->>'faceDescriptor' is not null and v.user_id <> $1
        and ($2::text[] is null or v.client_id = any($2::text[]))
      order by v.created_at desc limit $3`,
    [exceptUserId, tenants === null ? null : [...tenants], limit],
  );
  return r.rows.map((x) => ({
    clientId: x.client_id,
    userId: x.user_id,
    verificationId: x.id,
    caseId: x.case_id,
    sealed: x.sealed,
  }));
}

export async function listVerificationsOfUser(
  q: Queryable,
  clientId: string,
  userId: number,
): Promise<
  { id: string; state: string; method: string; score: number | null; createdAt: Date; caseId: string | null }[]
> {
  const r = await q.query<{
    id: string;
    state: string;
    method: string;
    score: number | null;
    created_at: Date;
    case_id: string | null;
  }>(
    `select v.id, v.state, v.method, v.score, v.created_at, c.id as case_id
       from verifications v left join review_cases c on c.verification_id = v.id
      where v.client_id = $1 and v.user_id = $2 order by v.seq desc limit 50`,
    [clientId, userId],
  );
  return r.rows.map((x) => ({
    id: x.id,
    state: x.state,
    method: x.method,
    score: x.score,
    createdAt: x.created_at,
    caseId: x.case_id,
  }));
}

/** The cases in progress that concern a user: their verification cases, and their KYC review case or their parent's. */
export async function lockCasesInProgressOfUser(q: Queryable, clientId: string, userId: number): Promise<ReviewCase[]> {
  const r = await q.query<Row>(
    `select c.* from review_cases c
      where c.client_id = $1 and c.state in ('open', 'pending_check')
        and (c.user_id = $2 or (c.kind = 'kyc_review' and c.user_id = (select parent_user_id from users where id = $2)))
      order by c.opened_at for update of c`,
    [clientId, userId],
  );
  return r.rows.map(toCase);
}
