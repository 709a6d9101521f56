import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { REASONS, reasonsForEndUser, toWireReasons } from './reasons.ts';
import { REDIRECT_ROWS, buildRedirectUrl, findAbortRow } from './redirects.ts';

const DOC_PAGE = new URL('../../../shared/reference/treezor-live-verification.txt', import.meta.url);

test("the reason catalogue is exactly the doc page's table, codes and messages", {
  skip: !existsSync(DOC_PAGE) && 'shared/reference is absent',
}, () => {
  const page = readFileSync(DOC_PAGE, 'utf8');
  const rows = [...page.matchAll(/^([12]\d{3}) (.+)$/gm)].map((m) => ({ code: Number(m[1]), message: m[2].trim() }));
  assert.equal(rows.length, 29); // the page lists 29 codes
  assert.deepEqual(
    REASONS.map((r) => ({ code: r.code, message: r.message })),
    rows,
  );
});

test('reason codes are unique; fraud and identity codes are AML-sensitive', () => {
  assert.equal(new Set(REASONS.map((r) => r.code)).size, REASONS.length);
  for (const r of REASONS) assert.equal(r.amlSensitive, r.code >= 2300, String(r.code));
});

test('end users never see AML-sensitive reasons', () => {
  const shown = reasonsForEndUser([1301, 2304, 2101, 2401, 2399]).map((r) => r.code);
  assert.deepEqual(shown, [1301, 2101]);
  assert.deepEqual(toWireReasons([1311]), [
    { 'reason-code': 1311, 'reason-message': 'Applicant has not presented a face' },
  ]);
});

test('the 15 redirect rows, and redirect URLs keep the integrator query', () => {
  assert.equal(REDIRECT_ROWS.length, 15);
  assert.equal(new Set(REDIRECT_ROWS.map((r) => `${r.status}/${r.returnReason}/${r.errorType}`)).size, 15);
  assert.ok(findAbortRow('error', 'device_not_found'));
  assert.equal(findAbortRow('none', 'none'), undefined);
  const u = new URL(
    buildRedirectUrl('https://app.example/kyc?session=9', 'abc', {
      status: 'aborted',
      returnReason: 'error',
      errorType: 'device_not_found',
    }),
  );
  assert.equal(u.searchParams.get('session'), '9');
  assert.equal(u.searchParams.get('identification_id'), 'abc');
  assert.equal(u.searchParams.get('error_type'), 'device_not_found');
});
