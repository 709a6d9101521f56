/**
 * The one typed error that domain and app code throw. `code` is stable (documented in
 * docs/errors.md) and is mapped to an HTTP status in exactly one place: src/api/error-map.ts.
 * `message` is safe to show to the API client; it never carries personal data.
 */
export type KycErrorCode =
  | 'invalid_request' // malformed input (bad JSON, wrong type, bad value)
  | 'missing_parameter' // a required field is absent
  | 'unauthorized' // no/invalid/expired credentials
  | 'invalid_client' // bad client_id/client_secret at the token endpoint
  | 'forbidden_scope' // authenticated but the token lacks the scope
  | 'forbidden' // authenticated staff whose role or position does not allow the action
  | 'not_found' // unknown id, or another tenant's id (never distinguish the two)
  | 'precondition_required' // user lacks KYC fields needed for live verification (Treezor 428)
  | 'not_processed' // live verification not in processed state (Treezor 406)
  | 'gone' // superseded / expired verification or capture session (Treezor 410)
  | 'conflict' // state does not allow the action
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'signature_invalid' // tampered presigned URL
  | 'url_expired' // presigned URL past its lifetime
  | 'sandbox_disabled'
  | 'rate_limited'
  | 'unavailable' // shutting down / dependency down
  | 'internal';

export class KycError extends Error {
  readonly code: KycErrorCode;
  /** Name of the offending field, when there is one. */
  readonly param?: string;
  /** Extra, non-personal data a client can use to recover (e.g. missing field names). */
  readonly details?: Record<string, unknown>;

  constructor(
    code: KycErrorCode,
    message: string,
    opts: { param?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KycError';
    this.code = code;
    this.param = opts.param;
    this.details = opts.details;
  }
}

export const isKycError = (e: unknown): e is KycError => e instanceof KycError;
