import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareIdentity } from './identity.ts';

test('declared identity against the MRZ: accents, case and hyphens do not count; a cut name is a prefix', () => {
  const rows = compareIdentity(
    { firstname: 'Hélène-Marie', lastname: "D'Arc", birthday: '1990-02-15' },
    { firstname: 'HELENE MARIE', lastname: 'D ARC', birthday: '1990-02-15' },
  );
  assert.deepEqual(
    rows.map((r) => r.result),
    ['match', 'match', 'match'],
  );
  const cut = compareIdentity(
    { firstname: 'Jean Pierre', lastname: 'Martin', birthday: '1990-02-15' },
    {
      firstname: 'JEAN',
      lastname: 'MARTINEZ',
      birthday: '1990-02-16',
    },
  );
  assert.deepEqual(
    cut.map((r) => r.result),
    ['prefix', 'mismatch', 'mismatch'],
  );
  assert.deepEqual(
    compareIdentity({ firstname: 'A' }, null).map((r) => r.result),
    ['missing', 'missing', 'missing'],
  );
});
