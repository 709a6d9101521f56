/**
 * The 15 rows of the doc page's redirect table: the query parameters appended to redirectUrl
 * when the end user leaves the hosted flow. The tuple (status, return_reason, error_type) is
 * validated against this list everywhere (capture abort API, simulation API).
 */
export interface RedirectRow {
  status: 'processing' | 'aborted';
  returnReason: string;
  errorType: string;
  description: string;
}

const row = (
  status: RedirectRow['status'],
  returnReason: string,
  errorType: string,
  description: string,
): RedirectRow => ({ status, returnReason, errorType, description });

export const REDIRECT_ROWS: readonly RedirectRow[] = [
  row('processing', 'none', 'none', 'The user completed their verification.'),
  row('aborted', 'refusal', 'none', 'The user refused to perform the verification now.'),
  row('aborted', 'no_document', 'none', 'The user did not have their document available to them.'),
  row('aborted', 'verify_later', 'none', 'The user refused to start the verification process.'),
  row('aborted', 'focus-lost', 'none', 'The user switched tabs/application while performing the id verification.'),
  row('aborted', 'connections_issue', 'bad_connexion', 'The connection was not good enough.'),
  row(
    'aborted',
    'doc_instructions_not_followed',
    'challenge_timeout',
    'The user did not follow the instruction for the document challenge.',
  ),
  row(
    'aborted',
    'face_instructions_not_followed',
    'challenge_timeout',
    'The user did not follow the instruction for the face challenge.',
  ),
  row('aborted', 'error', 'bad_connexion', 'The connection was not good enough.'),
  row('aborted', 'error', 'no_SMS', 'The user did not receive the SMS.'),
  row('aborted', 'error', 'publish', 'Error during video connection.'),
  row('aborted', 'error', 'device_not_allowed', 'The user refused to give access to their camera.'),
  row('aborted', 'error', 'browser-not-supported', 'The browser was not supported.'),
  row('aborted', 'error', 'device_not_found', "The user's device did not have any camera."),
  row(
    'aborted',
    'error',
    'wrong_phone_number',
    'The user wanted to change their phone number and were not allowed to for security reasons.',
  ),
];

export const ABORT_ROWS = REDIRECT_ROWS.filter((x) => x.status === 'aborted');

export function findAbortRow(returnReason: unknown, errorType: unknown): RedirectRow | undefined {
  return ABORT_ROWS.find((x) => x.returnReason === returnReason && x.errorType === errorType);
}

/** redirectUrl + the four documented query parameters (existing query parameters are kept). */
export function buildRedirectUrl(
  base: string,
  identificationId: string,
  r: Pick<RedirectRow, 'status' | 'returnReason' | 'errorType'>,
): string {
  const u = new URL(base);
  u.searchParams.set('identification_id', identificationId);
  u.searchParams.set('status', r.status);
  u.searchParams.set('return_reason', r.returnReason);
  u.searchParams.set('error_type', r.errorType);
  return u.toString();
}
