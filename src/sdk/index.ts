/**
 * The kyclive TypeScript SDK: an OAuth2-authenticated client for the Treezor-compatible API, and the
 * webhook verifiers. Meant to be published on its own, so it imports nothing but node built-ins, global
 * fetch and src/webhooks/{signing,php-json}.ts.
 */
import {
  generateTestHeader,
  SIGNATURE_HEADER,
  verifySignatureHeader,
  verifyTreezorSignature,
  WebhookSignatureError,
  type TreezorEnvelope,
  type VerifyOptions,
} from '../webhooks/signing.ts';

export { generateTestHeader, verifySignatureHeader, verifyTreezorSignature, WebhookSignatureError, SIGNATURE_HEADER };
export type { TreezorEnvelope, VerifyOptions, WebhookSignatureErrorReason } from '../webhooks/signing.ts';

export interface KycliveClientOptions {
  /** e.g. https://kyc.example.com (a path prefix is kept). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated OAuth2 scopes, e.g. "read_write legal". */
  scope?: string;
  fetch?: typeof globalThis.fetch;
  /** Where /settings/hooks lives; Treezor serves it from a separate webhook host. Defaults to baseUrl. */
  webhooksBaseUrl?: string;
}

/** One entry of a Treezor error body: Connect (`type`, `code`, `message`…) or legacy (`errorCode`…). */
export interface ApiErrorItem {
  type?: string;
  code?: string;
  message?: string;
  docUrl?: string;
  requestId?: string;
  errorCode?: number;
  errorMessage?: string;
  [k: string]: unknown;
}

export class KycliveApiError extends Error {
  readonly status: number;
  readonly errors: ApiErrorItem[];
  readonly requestId?: string;
  constructor(status: number, errors: ApiErrorItem[], requestId?: string) {
    const first = errors[0];
    super(first?.message ?? first?.errorMessage ?? `HTTP ${status}`);
    this.name = 'KycliveApiError';
    this.status = status;
    this.errors = errors;
    this.requestId = requestId;
  }
}

/** Treezor objects carry numbers as strings ("kycLevel": "0"); only the id is guaranteed. */
export interface TreezorUser {
  userId: string;
  [field: string]: unknown;
}
export interface TreezorDocument {
  documentId: string;
  [field: string]: unknown;
}

export interface KyclivenessStart {
  identificationId: string;
  identificationUrl: string;
  /** The whole 201 body. */
  raw: Record<string, unknown>;
}

export interface WebhookSubscription {
  uuid: string;
  url: string;
  secret: string;
  [field: string]: unknown;
}

/** Filters of GET /v1/documents (contract §4.4), passed through as query parameters. */
export interface DocumentQuery {
  documentId?: string | number;
  documentTag?: string;
  documentStatus?: string;
  documentTypeId?: string | number;
  documentType?: string;
  userId?: string | number;
  userEmail?: string;
  fileName?: string;
  pageNumber?: number;
  pageCount?: number;
  sortBy?: string;
  sortOrder?: 'ASC' | 'DESC';
  createdDateFrom?: string;
  createdDateTo?: string;
  updatedDateFrom?: string;
  updatedDateTo?: string;
  [param: string]: string | number | undefined;
}

/** Idempotency tag Treezor accepts on writes (≤ 250 chars). */
export interface WriteOptions {
  accessTag?: string;
}

type Query = Record<string, string | number | undefined>;
type Json = Record<string, unknown>;

// Refreshing a minute early leaves room for clock skew and for requests already in flight.
const TOKEN_REFRESH_MARGIN_S = 60;

export class KycliveClient {
  private readonly opts: KycliveClientOptions;
  private readonly baseUrl: string;
  private readonly webhooksBaseUrl: string;
  private readonly fetch: typeof globalThis.fetch;
  private token?: { value: string; refreshAt: number };
  private tokenRequest?: Promise<string>;

  constructor(opts: KycliveClientOptions) {
    this.opts = opts;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.webhooksBaseUrl = (opts.webhooksBaseUrl ?? opts.baseUrl).replace(/\/+$/, '');
    this.fetch = opts.fetch ?? globalThis.fetch;
  }

  async createUser(fields: Json, opts: WriteOptions = {}): Promise<TreezorUser> {
    return first(await this.call('POST', '/v1/users', { json: fields, query: { accessTag: opts.accessTag } }), 'users');
  }

  async getUser(userId: string | number): Promise<TreezorUser> {
    return first(await this.call('GET', `/v1/users/${seg(userId)}`), 'users');
  }

  async updateUser(userId: string | number, fields: Json, opts: WriteOptions = {}): Promise<TreezorUser> {
    return first(
      await this.call('PUT', `/v1/users/${seg(userId)}`, { json: fields, query: { accessTag: opts.accessTag } }),
      'users',
    );
  }

  /** Starts a live verification; send the user to `identificationUrl`. */
  async createKycliveness(
    userId: string | number,
    opts: { redirectUrl?: string } & WriteOptions = {},
  ): Promise<KyclivenessStart> {
    const raw = await this.call('POST', `/v1/users/${seg(userId)}/kycliveness`, {
      json: opts.redirectUrl === undefined ? undefined : { redirectUrl: opts.redirectUrl },
      query: { accessTag: opts.accessTag },
    });
    // Treezor's sources disagree on the 201 shape (contract §4.1); kyclive sends all three, accept any.
    const item = (arrayHead(raw.user_kyc) ?? raw.identification ?? arrayHead(raw.users)) as Json | undefined;
    const identificationId = item?.['identification-id'];
    const identificationUrl = item?.['identification-url'];
    if (typeof identificationId !== 'string' || typeof identificationUrl !== 'string') {
      throw invalidResponse(201, 'response carries no identification-id / identification-url');
    }
    return { identificationId, identificationUrl, raw };
  }

  async getKycliveness(userId: string | number): Promise<Json> {
    return this.call('GET', `/v1/users/${seg(userId)}/kycliveness`);
  }

  /** Once `kycliveness.update` reports `processed`: stores the result documents (one `document.create` each). */
  async importKyclivenessDocuments(userId: string | number, opts: WriteOptions = {}): Promise<Json> {
    return this.call('PUT', `/v1/users/${seg(userId)}/kycliveness`, { query: { accessTag: opts.accessTag } });
  }

  async listDocuments(query: DocumentQuery = {}): Promise<TreezorDocument[]> {
    const body = await this.call('GET', '/v1/documents', { query });
    return Array.isArray(body.documents) ? body.documents : [];
  }

  async getDocument(documentId: string | number): Promise<TreezorDocument> {
    return first(await this.call('GET', `/v1/documents/${seg(documentId)}`), 'documents');
  }

  /** A short-lived (about 30 s) presigned URL to the document's file. */
  async getDocumentDownloadUrl(documentId: string | number): Promise<string> {
    const body = await this.call('GET', `/v1/documents/${seg(documentId)}/download`);
    if (typeof body.url !== 'string') throw invalidResponse(200, 'response carries no url');
    return body.url;
  }

  async requestKycReview(userId: string | number, opts: WriteOptions = {}): Promise<TreezorUser> {
    return first(
      await this.call('PUT', `/v1/users/${seg(userId)}/Kycreview`, { query: { accessTag: opts.accessTag } }),
      'users',
    );
  }

  /** Registers a receiver; keep the returned `secret` to verify deliveries with verifyWebhook(). */
  async createWebhookSubscription(url: string): Promise<WebhookSubscription> {
    const body = await this.call('POST', '/settings/hooks', { json: { url }, base: this.webhooksBaseUrl });
    if (typeof body.uuid !== 'string' || typeof body.secret !== 'string') {
      throw invalidResponse(201, 'response carries no uuid / secret');
    }
    return body as WebhookSubscription;
  }

  /** Sandbox only: drives a live verification to an outcome without a camera. */
  async simulateKycliveness(identificationId: string, body: Json): Promise<Json> {
    return this.call('POST', `/simulation/kycliveness/${seg(identificationId)}`, { json: body });
  }

  private async call(
    method: string,
    path: string,
    req: { json?: unknown; query?: Query; base?: string } = {},
  ): Promise<Json> {
    const url = (req.base ?? this.baseUrl) + path + queryString(req.query);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (req.json !== undefined) headers['Content-Type'] = 'application/json';
    const body = req.json === undefined ? undefined : JSON.stringify(req.json);
    const send = async () => {
      headers.Authorization = `Bearer ${await this.accessToken()}`;
      return this.fetch(url, { method, headers, body });
    };
    let res = await send();
    // A cached token can die before its expiry (revoked, server signing key rotated). A 401 means nothing
    // was done, so one retry with a fresh token is safe even for POST.
    if (res.status === 401) {
      this.token = undefined;
      res = await send();
    }
    return readJson(res);
  }

  private async accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt) return this.token.value;
    // Concurrent callers share one token request instead of each fetching their own.
    this.tokenRequest ??= this.fetchToken().finally(() => {
      this.tokenRequest = undefined;
    });
    return this.tokenRequest;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.opts.clientId,
      client_secret: this.opts.clientSecret,
    });
    if (this.opts.scope) form.set('scope', this.opts.scope);
    const res = await this.fetch(`${this.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: form.toString(),
    });
    const body = await readJson(res);
    if (typeof body.access_token !== 'string')
      throw invalidResponse(res.status, 'token response carries no access_token');
    const ttl = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3600);
    this.token = { value: body.access_token, refreshAt: Date.now() + (ttl - TOKEN_REFRESH_MARGIN_S) * 1000 };
    return body.access_token;
  }
}

/**
 * Verifies a kyclive delivery: the `Kyclive-Signature` header (whole body, with replay tolerance) AND
 * Treezor's `object_payload_signature`, then returns the parsed envelope. Pass several secrets while
 * rotating: each check passes if any secret matches. Throws WebhookSignatureError.
 */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  headers: Record<string, string | string[] | undefined>,
  secret: string | string[],
  opts?: VerifyOptions,
): TreezorEnvelope {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new RangeError('verifyWebhook: at least one secret is required');
  const header = headerValue(headers, SIGNATURE_HEADER);

  let mismatch: unknown;
  const headerOk = secrets.some((s) => {
    try {
      verifySignatureHeader(rawBody, header, s, opts);
      return true;
    } catch (e) {
      // Only a mismatch depends on the secret; any other failure is the same for all of them.
      if (!(e instanceof WebhookSignatureError) || e.reason !== 'no_match') throw e;
      mismatch = e;
      return false;
    }
  });
  if (!headerOk) throw mismatch;

  for (const s of secrets) {
    const { ok, envelope } = verifyTreezorSignature(rawBody, s);
    if (ok && envelope) return envelope;
  }
  throw new WebhookSignatureError(
    'no_match',
    'The Kyclive-Signature header is valid but object_payload_signature does not match the payload.',
  );
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === wanted) return Array.isArray(v) ? v.join(',') : v;
  }
  return undefined;
}

async function readJson(res: Response): Promise<Json> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    throw new KycliveApiError(res.status, errorItems(body, res), requestIdOf(body, res));
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw invalidResponse(res.status, 'response is not a JSON object');
  return body as Json;
}

function errorItems(body: unknown, res: Response): ApiErrorItem[] {
  const b = body as { errors?: unknown; error?: unknown; error_description?: unknown } | undefined;
  if (Array.isArray(b?.errors)) return b.errors as ApiErrorItem[];
  // OAuth2 (`{"error":"invalid_client","error_description":…}`) and the liveness endpoint's `{"error":…}`.
  if (typeof b?.error === 'string') {
    return [{ code: b.error, message: typeof b.error_description === 'string' ? b.error_description : b.error }];
  }
  return [{ message: `HTTP ${res.status} ${res.statusText}`.trim() }];
}

function requestIdOf(body: unknown, res: Response): string | undefined {
  const item = arrayHead((body as { errors?: unknown } | undefined)?.errors) as ApiErrorItem | undefined;
  return (
    (typeof item?.requestId === 'string' ? item.requestId : undefined) ?? res.headers.get('x-request-id') ?? undefined
  );
}

function invalidResponse(status: number, message: string): KycliveApiError {
  return new KycliveApiError(status, [{ type: 'invalid_response', code: 'invalid_response', message }]);
}

function first<T>(body: Json, key: 'users' | 'documents'): T {
  const item = arrayHead(body[key]);
  if (item === undefined) throw invalidResponse(200, `response carries no ${key}[0]`);
  return item as T;
}

function arrayHead(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : undefined;
}

function seg(id: string | number): string {
  return encodeURIComponent(String(id));
}

function queryString(query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}
