import type { Queryable } from '../../../app/ports.ts';
import type { StoredUser } from '../../../domain/user.ts';

interface Row {
  id: number;
  treezor_client_id: number;
  fields: Record<string, string>;
  user_status: string;
  kyc_level: number;
  kyc_review: number;
  kyc_review_comment: string;
  parent_user_id: number | null;
  created_at: Date;
  modified_at: Date | null;
}

const COLS = `u.id, c.treezor_client_id, u.fields, u.user_status, u.kyc_level, u.kyc_review, u.kyc_review_comment,
  u.parent_user_id, u.created_at, u.modified_at`;

function toUser(r: Row): StoredUser {
  return {
    id: r.id,
    clientNumericId: r.treezor_client_id,
    fields: r.fields,
    userStatus: r.user_status,
    kycLevel: r.kyc_level,
    kycReview: r.kyc_review,
    kycReviewComment: r.kyc_review_comment,
    parentUserId: r.parent_user_id,
    createdAt: r.created_at,
    modifiedAt: r.modified_at,
  };
}

/** Tenant-scoped: another client's user is simply not found. */
export async function findUser(
  q: Queryable,
  clientId: string,
  userId: number,
  forUpdate = false,
): Promise<StoredUser | null> {
  const r = await q.query<Row>(
    `select ${COLS} from users u join clients c on c.id = u.client_id where u.id = $1 and u.client_id = $2${forUpdate ? ' for update of u' : ''}`,
    [userId, clientId],
  );
  return r.rows[0] ? toUser(r.rows[0]) : null;
}

export async function insertUser(
  q: Queryable,
  clientId: string,
  fields: Record<string, string>,
  parentUserId: number | null,
  now: Date,
): Promise<StoredUser> {
  const r = await q.query<Row>(
    `with u as (insert into users (client_id, fields, parent_user_id, created_at) values ($1, $2, $3, $4) returning *)
     select ${COLS} from u join clients c on c.id = u.client_id`,
    [clientId, JSON.stringify(fields), parentUserId, now],
  );
  return toUser(r.rows[0]);
}

export async function updateUserFields(
  q: Queryable,
  clientId: string,
  userId: number,
  fields: Record<string, string>,
  now: Date,
): Promise<StoredUser | null> {
  const r = await q.query<Row>(
    `with u as (update users set fields = fields || $3::jsonb, modified_at = $4 where id = $1 and client_id = $2 returning *)
     select ${COLS} from u join clients c on c.id = u.client_id`,
    [userId, clientId, JSON.stringify(fields), now],
  );
  return r.rows[0] ? toUser(r.rows[0]) : null;
}

export async function setKycReview(
  q: Queryable,
  clientId: string,
  userIds: number[],
  review: number,
  now: Date,
  opts: { level?: number; appendComment?: string } = {},
): Promise<void> {
  await q.query(
    `update users set kyc_review = $3, modified_at = $4,
       kyc_level = coalesce($5, kyc_level),
       kyc_review_comment = case when $6::text is null or $6::text = '' then kyc_review_comment
                                 when kyc_review_comment = '' then $6::text
                                 else kyc_review_comment || E'\n' || $6::text end
     where client_id = $1 and id = any($2::bigint[])`,
    [clientId, userIds, review, now, opts.level ?? null, opts.appendComment ?? null],
  );
}

export async function listChildren(q: Queryable, clientId: string, parentId: number): Promise<StoredUser[]> {
  const r = await q.query<Row>(
    `select ${COLS} from users u join clients c on c.id = u.client_id where u.client_id = $1 and u.parent_user_id = $2 order by u.id`,
    [clientId, parentId],
  );
  return r.rows.map(toUser);
}
