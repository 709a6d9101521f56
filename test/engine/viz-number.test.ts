/** The visual-zone number comparison (2303) on hand-made cell scores: found, contradicted, absent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVizNumber, type VizLine } from '../../src/engine/document/viz-number.ts';
import { MRZ_ALPHABET } from '../../src/engine/mrz/parse.ts';

/** A line whose cells score `text` at `top` and every other character at `rest` (plus per-cell overrides). */
function line(text: string, top = 0.93, rest = 0.5, overrides: Record<number, Record<string, number>> = {}): VizLine {
  return {
    frame: 0,
    scores: [...text].map((ch, i) => {
      const s = new Float32Array(MRZ_ALPHABET.length).fill(rest);
      s[MRZ_ALPHABET.indexOf(ch)] = top;
      for (const [c, v] of Object.entries(overrides[i] ?? {})) s[MRZ_ALPHABET.indexOf(c)] = v;
      return s;
    }),
  };
}

test('viz number: found in a longer line, with one cell of another face close to the expected glyph', () => {
  // 'F' printed in a sans face reads as P, but F scores within the margin: still the same number
  const r = compareVizNumber([line('NOX4RTBPPW4', 0.9, 0.5, { 8: { F: 0.86 } })], 'X4RTBPFW4');
  assert.ok(r.found, 'found');
  assert.equal(r.found!.differing, 0);
  assert.equal(r.contradicting.length, 0);
});

test('viz number: a standalone token of the same pattern that clearly differs is a contradiction', () => {
  const r = compareVizNumber([line('998000398', 0.94)], '998001343');
  assert.equal(r.found, null);
  assert.equal(r.contradicting[0].read, '998000398');
  assert.equal(r.contradicting[0].differing, 3);
  assert.ok(r.contradicting[0].meanScore > 0.9);
});

test('viz number: digits are read as digits where the number has digits (O/0 and I/1 do not differ)', () => {
  const r = compareVizNumber([line('99800I34O', 0.93, 0.5, { 5: { '1': 0.9 }, 8: { '3': 0.91 } })], '998001343');
  assert.ok(r.found);
  assert.equal(r.found!.read, '998001343');
});

test('viz number: nothing of the right length or pattern → neither found nor contradicted', () => {
  const r = compareVizNumber([line('SPECIMEN'), line('ABCDEFGHIJKL')], '998001343');
  assert.equal(r.found, null);
  assert.deepEqual(r.contradicting, []);
});
