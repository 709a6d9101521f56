import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isKycError, type KycErrorCode } from '../domain/errors.ts';
import { signUrlToken, verifyUrlToken } from './signed-url.ts';

const secret = Buffer.alloc(32, 7);
const params = { purpose: 'document.download', resource: 'doc_01HZX3', tenant: 'tenant-42', expiresAt: 1_800_000_000 };
const expected = { purpose: 'document.download', resource: 'doc_01HZX3' };
const now = 1_799_999_000;

const code =
  (c: KycErrorCode) =>
  (e: unknown): boolean => {
    assert.ok(isKycError(e), `expected KycError(${c}), got ${String(e)}`);
    assert.equal(e.code, c);
    return true;
  };
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('signed URL tokens', () => {
  it('round-trips and is URL-safe', () => {
    const token = signUrlToken(params, secret);
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    assert.ok(token.length < 120, `compact: ${token.length} chars`);
    assert.deepEqual(verifyUrlToken(token, expected, secret, now), {
      resource: 'doc_01HZX3',
      tenant: 'tenant-42',
      expiresAt: 1_800_000_000,
    });
    // resource is optional in the expectation: the caller may look the resource up from the token.
    assert.equal(verifyUrlToken(token, { purpose: 'document.download' }, secret, now).resource, 'doc_01HZX3');
  });

  it('carries UTF-8 fields intact', () => {
    const token = signUrlToken({ ...params, tenant: 'société-é' }, secret);
    assert.equal(verifyUrlToken(token, expected, secret, now).tenant, 'société-é');
  });

  it('rejects every single-character change of the token', () => {
    const token = signUrlToken(params, secret);
    let tried = 0;
    for (let i = 0; i < token.length; i++) {
      for (const c of ALPHABET) {
        if (c === token[i]) continue;
        const altered = token.slice(0, i) + c + token.slice(i + 1);
        assert.throws(
          () => verifyUrlToken(altered, expected, secret, now),
          code('signature_invalid'),
          `position ${i} -> ${c}`,
        );
        tried++;
      }
    }
    assert.equal(tried, token.length * 63);
  });

  it('rejects every single-bit flip of the decoded bytes', () => {
    const bytes = Buffer.from(signUrlToken(params, secret), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const b = Buffer.from(bytes);
        b[i] ^= 1 << bit;
        assert.throws(
          () => verifyUrlToken(b.toString('base64url'), expected, secret, now),
          code('signature_invalid'),
          `byte ${i} bit ${bit}`,
        );
      }
    }
  });

  it('rejects a token for another purpose, resource, or signed with another secret', () => {
    const token = signUrlToken(params, secret);
    assert.throws(() => verifyUrlToken(token, { purpose: 'report.download' }, secret, now), code('signature_invalid'));
    assert.throws(
      () => verifyUrlToken(token, { purpose: 'document.download', resource: 'doc_other' }, secret, now),
      code('signature_invalid'),
    );
    assert.throws(() => verifyUrlToken(token, expected, Buffer.alloc(32, 8), now), code('signature_invalid'));
    const otherPurpose = signUrlToken({ ...params, purpose: 'report.download' }, secret);
    assert.throws(() => verifyUrlToken(otherPurpose, expected, secret, now), code('signature_invalid'));
  });

  it('rejects malformed tokens as signature_invalid', () => {
    const token = signUrlToken(params, secret);
    const bad: unknown[] = [
      '',
      'a',
      '====',
      `${token}=`,
      `${token}.`,
      ` ${token}`,
      `${token}\n`,
      token.slice(0, -1),
      token.slice(1),
      `${token}A`,
      `+${token.slice(1)}`,
      `/${token.slice(1)}`,
      'x'.repeat(10_000),
      randomBytes(80).toString('base64url'),
      null,
      undefined,
      42,
      {},
    ];
    for (const t of bad)
      assert.throws(
        () => verifyUrlToken(t as string, expected, secret, now),
        code('signature_invalid'),
        JSON.stringify(t)?.slice(0, 40),
      );
  });

  it('expires exactly after expiresAt', () => {
    const token = signUrlToken(params, secret);
    assert.equal(verifyUrlToken(token, expected, secret, params.expiresAt - 1).expiresAt, params.expiresAt);
    assert.equal(verifyUrlToken(token, expected, secret, params.expiresAt).expiresAt, params.expiresAt);
    assert.throws(() => verifyUrlToken(token, expected, secret, params.expiresAt + 1), code('url_expired'));
    assert.throws(() => verifyUrlToken(token, expected, secret, params.expiresAt + 0.001), code('url_expired'));
  });

  it('checks the signature before expiry', () => {
    const token = signUrlToken(params, secret);
    const altered = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
    assert.throws(() => verifyUrlToken(altered, expected, secret, params.expiresAt + 1000), code('signature_invalid'));
    assert.throws(
      () => verifyUrlToken(token, expected, Buffer.alloc(32, 9), params.expiresAt + 1000),
      code('signature_invalid'),
    );
  });

  it('refuses weak secrets and bad parameters when signing', () => {
    assert.throws(() => signUrlToken(params, Buffer.alloc(16)), code('internal'));
    assert.throws(() => verifyUrlToken('x', expected, Buffer.alloc(16), now), code('internal'));
    assert.throws(() => signUrlToken({ ...params, expiresAt: 1.5 }, secret), code('internal'));
    assert.throws(() => signUrlToken({ ...params, expiresAt: -1 }, secret), code('internal'));
    assert.throws(() => signUrlToken({ ...params, resource: '' }, secret), code('internal'));
    assert.throws(() => signUrlToken({ ...params, tenant: 'x'.repeat(256) }, secret), code('internal'));
  });
});
