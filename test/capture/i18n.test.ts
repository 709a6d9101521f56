/**
 * The capture app and the server's pages speak French and English fully: no string falls back, no
 * placeholder is lost. Both read the one catalogue, `src/web/messages.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APP, PAGES } from '../../src/web/messages.ts';
import { STATIC_PAGES } from '../../src/web/pages.ts';

const vars = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

function assertTranslated(
  en: Record<string, string>,
  fr: Record<string, string | undefined>,
  englishOnly: string[] = [],
) {
  for (const [key, s] of Object.entries(en)) {
    if (englishOnly.includes(key)) continue;
    assert.ok(fr[key], `missing French for ${key}`);
    assert.deepEqual(vars(fr[key]!), vars(s), `placeholders of ${key}`);
  }
  assert.deepEqual(
    Object.keys(fr).filter((k) => !(k in en)),
    [],
    'French keys without English',
  );
}

test('every English string of the capture app has a French translation with the same placeholders', () => {
  assertTranslated(APP.en, APP.fr);
});

test('every English string of the static pages has a French translation, and their placeholders are app strings', () => {
  // The shell's <title> shows before the app picks a language, in English like every page's <title>.
  assertTranslated(PAGES.en, PAGES.fr, ['shellTitle']);
  for (const s of [...Object.values(PAGES.en), ...Object.values(PAGES.fr)])
    for (const name of vars(s)) assert.ok(name in APP.en, `{${name}} names no app string`);
  assert.ok(STATIC_PAGES.handoffGone.includes(`“${APP.en.onPhone}”`), 'the English page quotes the English button');
  assert.ok(STATIC_PAGES.handoffGone.includes(`« ${APP.fr.onPhone} »`), 'the French page quotes the French button');
});

test('no string of the app or its pages names a refusal reason (AML-sensitive reasons are never shown)', () => {
  const all = JSON.stringify({ APP, PAGES }).toLowerCase();
  for (const word of ['fraud', 'counterfeit', 'stolen', 'fraude', 'contrefa', 'volé', 'rightful owner'])
    assert.ok(!all.includes(word), word);
});
