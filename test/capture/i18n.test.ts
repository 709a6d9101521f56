/** The capture app speaks French and English fully: no string falls back, no placeholder is lost. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STRINGS } from '../../src/web/i18n.ts';

test('every English string of the capture app has a French translation with the same placeholders', () => {
  const vars = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const [key, en] of Object.entries(STRINGS.en)) {
    const fr = (STRINGS.fr as Record<string, string | undefined>)[key];
    assert.ok(fr, `missing French for ${key}`);
    assert.deepEqual(vars(fr), vars(en), `placeholders of ${key}`);
  }
  assert.deepEqual(
    Object.keys(STRINGS.fr).filter((k) => !(k in STRINGS.en)),
    [],
    'French keys without English',
  );
});

test('no string of the app names a refusal reason (AML-sensitive reasons are never shown)', () => {
  const all = JSON.stringify(STRINGS).toLowerCase();
  for (const word of ['fraud', 'counterfeit', 'stolen', 'fraude', 'contrefa', 'volé', 'rightful owner'])
    assert.ok(!all.includes(word), word);
});
