import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KycError } from './errors.ts';
import { missingLivenessFields, toTreezorUser, treezorDate, validateUserInput } from './user.ts';

test('create requires userTypeId, specifiedUSPerson and email; update refuses create-only fields', () => {
  assert.throws(
    () => validateUserInput({ email: 'a@b.co', specifiedUSPerson: 0 }, 'create'),
    (e: unknown) => e instanceof KycError && e.param === 'userTypeId',
  );
  assert.deepEqual(validateUserInput({ userTypeId: '1', specifiedUSPerson: 0, email: ' a@b.co ' }, 'create'), {
    userTypeId: '1',
    specifiedUSPerson: '0',
    email: 'a@b.co',
  });
  assert.throws(
    () => validateUserInput({ userTypeId: 2 }, 'update'),
    (e: unknown) => e instanceof KycError && e.param === 'userTypeId',
  );
  assert.deepEqual(validateUserInput({ accessTag: 'x', firstname: 'A' }, 'update'), { firstname: 'A' });
});

test('dates must exist; liveness needs firstname, lastname and a valid birthday', () => {
  assert.throws(() => validateUserInput({ birthday: '2023-02-29' }, 'update'));
  assert.deepEqual(validateUserInput({ birthday: '2024-02-29' }, 'update'), { birthday: '2024-02-29' });
  assert.deepEqual(missingLivenessFields({ firstname: 'A', lastname: ' ', birthday: '0000-00-00' }), [
    'lastname',
    'birthday',
  ]);
});

test('Treezor dates are Europe/Paris local time; users serialise numbers as strings', () => {
  assert.equal(treezorDate(new Date('2024-01-08T10:00:42Z')), '2024-01-08 11:00:42');
  assert.equal(treezorDate(new Date('2024-07-08T10:00:42Z')), '2024-07-08 12:00:42');
  assert.equal(treezorDate(null), '0000-00-00 00:00:00');
  const u = toTreezorUser({
    id: 100001,
    clientNumericId: 929001,
    fields: { userTypeId: '1', firstname: 'A' },
    userStatus: 'VALIDATED',
    kycLevel: 2,
    kycReview: 1,
    kycReviewComment: '',
    parentUserId: null,
    createdAt: new Date(),
    modifiedAt: null,
  });
  assert.equal(u.userId, '100001');
  assert.equal(u.clientId, '929001');
  assert.equal(u.kycLevel, '2');
  assert.equal(u.lastname, '');
  assert.equal(u.parentUserId, null);
});

test("Object.prototype's names are not user attributes (issue 25: constructor, toString, __proto__ were accepted)", () => {
  for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', '__defineGetter__']) {
    const body = JSON.parse(`{"firstname":"A",${JSON.stringify(name)}:"x"}`);
    assert.throws(
      () => validateUserInput(body, 'update'),
      (e: unknown) => e instanceof KycError && e.code === 'invalid_request' && e.param === name,
      name,
    );
  }
});
