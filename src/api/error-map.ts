/**
 * The one table from typed error codes to HTTP. Bodies use Treezor's Connect error format:
 * {"errors":[{"type","code","message","docUrl","requestId"}]} (OAS25 DefaultError), plus `param`
 * when a field is at fault. Every code is documented in docs/errors.md.
 */
import type { KycErrorCode } from '../domain/errors.ts';

export const DOC_URL = 'https://docs.treezor.com/guide/api-basics/response-codes.html';

export const ERROR_MAP: Record<KycErrorCode, { status: number; type: string; code: string }> = {
  invalid_request: { status: 400, type: 'invalid_request', code: 'invalid_parameter' },
  missing_parameter: { status: 400, type: 'invalid_request', code: 'missing_parameter' },
  unauthorized: { status: 401, type: 'unauthorized', code: 'invalid_token' },
  invalid_client: { status: 401, type: 'unauthorized', code: 'invalid_client' },
  forbidden_scope: { status: 403, type: 'forbidden', code: 'insufficient_scope' },
  forbidden: { status: 403, type: 'forbidden', code: 'forbidden' },
  signature_invalid: { status: 403, type: 'forbidden', code: 'invalid_signature' },
  url_expired: { status: 403, type: 'forbidden', code: 'url_expired' },
  sandbox_disabled: { status: 403, type: 'forbidden', code: 'sandbox_disabled' },
  not_found: { status: 404, type: 'invalid_request', code: 'resource_not_found_error' },
  not_processed: { status: 406, type: 'invalid_request', code: 'identification_not_processed' },
  conflict: { status: 409, type: 'invalid_request', code: 'conflict' },
  gone: { status: 410, type: 'invalid_request', code: 'identification_gone' },
  payload_too_large: { status: 413, type: 'invalid_request', code: 'payload_too_large' },
  unsupported_media_type: { status: 415, type: 'invalid_request', code: 'unsupported_media_type' },
  precondition_required: { status: 428, type: 'invalid_request', code: 'precondition_required' },
  rate_limited: { status: 429, type: 'rate_limited', code: 'too_many_requests' },
  internal: { status: 500, type: 'server_error', code: 'internal_error' },
  unavailable: { status: 503, type: 'server_error', code: 'service_unavailable' },
};

export function errorBody(requestId: string, e: { type: string; code: string; message: string; param?: string }) {
  const item: Record<string, unknown> = { type: e.type, code: e.code, message: e.message, docUrl: DOC_URL, requestId };
  if (e.param) item.param = e.param;
  return { errors: [item] };
}
