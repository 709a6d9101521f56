import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_MAP } from './error-map.ts';

test('docs/errors.md documents every error code with its status', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, m] of Object.entries(ERROR_MAP)) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${m.status} \\| ${m.type} \\| ${m.code} \\|`), code);
  }
});
