import type { Queryable } from '../../../app/ports.ts';

export interface ClientRecord {
  id: string;
  name: string;
  scopes: string[];
  method: 'liveness' | 'certified';
  secretHash: string;
  secretVersion: number;
  branding: Record<string, unknown>;
  defaultRedirectUrl: string | null;
  /** As stored: domain/review's ReviewSettings, absent keys taking the defaults. */
  reviewSettings: Record<string, unknown>;
  createdAt: Date;
  disabled: boolean;
}

interface Row {
  id: string;
  name: string;
  scopes: string[];
  verification_method: 'liveness' | 'certified';
  secret_hash: string;
  secret_version: number;
  branding: Record<string, unknown>;
  default_redirect_url: string | null;
  review_settings: Record<string, unknown>;
  created_at: Date;
  disabled_at: Date | null;
}

const COLS = `id, name, scopes, verification_method, secret_hash, secret_version, branding, default_redirect_url, review_settings, created_at, disabled_at`;

const toClient = (r: Row): ClientRecord => ({
  id: r.id,
  name: r.name,
  scopes: r.scopes,
  method: r.verification_method,
  secretHash: r.secret_hash,
  secretVersion: r.secret_version,
  branding: r.branding ?? {},
  defaultRedirectUrl: r.default_redirect_url,
  reviewSettings: r.review_settings ?? {},
  createdAt: r.created_at,
  disabled: !!r.disabled_at,
});

export async function insertClient(
  q: Queryable,
  c: { id: string; name: string; secretHash: string; scopes: string[]; method: string },
): Promise<{ treezorClientId: number }> {
  const r = await q.query<{ treezor_client_id: number }>(
    `insert into clients (id, name, secret_hash, scopes, verification_method) values ($1, $2, $3, $4, $5) returning treezor_client_id`,
    [c.id, c.name, c.secretHash, c.scopes, c.method],
  );
  return { treezorClientId: r.rows[0].treezor_client_id };
}

/** Any client, disabled ones included. */
export async function findClient(q: Queryable, id: string): Promise<ClientRecord | null> {
  const r = await q.query<Row>(`select ${COLS} from clients where id = $1`, [id]);
  return r.rows[0] ? toClient(r.rows[0]) : null;
}

export async function listClients(q: Queryable): Promise<ClientRecord[]> {
  const r = await q.query<Row>(`select ${COLS} from clients order by created_at, id`);
  return r.rows.map(toClient);
}

/** New secret hash and version: tokens issued under the old version stop working. False if no such active client. */
export async function rotateSecret(q: Queryable, id: string, secretHash: string): Promise<boolean> {
  const r = await q.query(
    `update clients set secret_hash = $2, secret_version = secret_version + 1 where id = $1 and disabled_at is null`,
    [id, secretHash],
  );
  return r.rowCount > 0;
}

export async function updateBranding(
  q: Queryable,
  id: string,
  branding: Record<string, unknown>,
  defaultRedirectUrl: string | null,
): Promise<void> {
  await q.query('update clients set branding = $2, default_redirect_url = $3 where id = $1', [
    id,
    JSON.stringify(branding),
    defaultRedirectUrl,
  ]);
}

export async function updateReviewSettings(q: Queryable, id: string, settings: Record<string, unknown>): Promise<void> {
  await q.query('update clients set review_settings = $2 where id = $1', [id, JSON.stringify(settings)]);
}
