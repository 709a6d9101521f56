import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTd1, buildTd3, checkDigit, expandDate, parseMrz } from '../../src/engine/mrz/parse.ts';
import { buildGlyphModel, renderMrzLines, type GlyphModel } from '../../src/engine/mrz/glyphs.ts';
import { readMrzInFrame, voteAndDecode } from '../../src/engine/mrz/read.ts';
import { compareIdentity, nameVariants } from '../../src/engine/identity.ts';
import { CORPUS_SKIP, FONT_SKIP, labels } from './helpers.ts';

const NOW = new Date('2026-11-26T00:00:00Z');

test('mrz: ICAO 9303 check digit (7-3-1)', () => {
  assert.equal(checkDigit('L898902C3'), 6); // ICAO 9303 part 3 example
  assert.equal(checkDigit('740812'), 2);
  assert.equal(checkDigit('120415'), 9);
  assert.equal(checkDigit('<<<<'), 0);
});

test('mrz: ICAO specimen TD3 parses and validates', () => {
  const f = parseMrz(['P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408122F1204159ZE184226B<<<<<10'], NOW)!;
  assert.equal(f.format, 'TD3');
  assert.equal(f.valid, true);
  assert.equal(f.surname, 'ERIKSSON');
  assert.equal(f.givenNames, 'ANNA MARIA');
  assert.equal(f.birthDate, '1974-08-12');
  assert.equal(f.expiryDate, '2012-04-15');
  assert.equal(f.sex, 'F');
});

test('mrz: a changed digit fails its check digit (2301 material)', () => {
  const f = parseMrz(['P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408132F1204159ZE184226B<<<<<10'], NOW)!;
  assert.equal(f.valid, false);
  assert.deepEqual(f.checks.filter((c) => !c.valid).map((c) => c.field), ['birth_date', 'composite']);
});

test('mrz: built TD1/TD3 lines round-trip', () => {
  const td1 = buildTd1({ state: 'FRA', surname: 'DUPONT', given: 'MARIE CLAIRE', number: 'X4RTBPFW4', nationality: 'FRA', birth: '900215', sex: 'F', expiry: '330101' });
  const f1 = parseMrz(td1, NOW)!;
  assert.equal(f1.format, 'TD1'); assert.equal(f1.valid, true); assert.equal(f1.givenNames, 'MARIE CLAIRE'); assert.equal(f1.expiryDate, '2033-01-01');
  const td3 = buildTd3({ state: 'D', surname: 'MÜLLER', given: 'JÖRG', number: 'C01X0006H', nationality: 'D', birth: '640812', sex: 'M', expiry: '310101' });
  assert.equal(td3[0].length, 44); assert.equal(parseMrz(td3, NOW)!.valid, true);
});

test('mrz: dates: birth century never in the future, expiry 20YY', () => {
  assert.equal(expandDate('640812', 'birth', NOW), '1964-08-12');
  assert.equal(expandDate('101231', 'birth', NOW), '2010-12-31');
  assert.equal(expandDate('301231', 'birth', NOW), '1930-12-31');
  assert.equal(expandDate('330101', 'expiry', NOW), '2033-01-01');
  assert.equal(expandDate('991301', 'expiry', NOW), null);
});

test('mrz: every labelled corpus MRZ parses with the labelled validity and fields', { skip: CORPUS_SKIP }, () => {
  for (const d of labels().documents) {
    if (!d.mrz_lines.length || d.mrz_check_digits_valid === null) continue;
    const f = parseMrz(d.mrz_lines, NOW);
    assert.ok(f, d.file);
    assert.equal(f.valid, d.mrz_check_digits_valid, d.file);
    assert.equal(f.surname, d.fields.surname, d.file);
    assert.equal(f.givenNames, d.fields.given_names, d.file);
    if (d.fields.expiry_date) assert.equal(f.expiryDate, d.fields.expiry_date, d.file);
    if (d.fields.birth_date && !d.file.includes('pass-cze')) assert.equal(f.birthDate, d.fields.birth_date, d.file); // 1911 vs 2011 is ambiguous in the MRZ itself
  }
});

let model: GlyphModel | undefined;
const getModel = async () => (model ??= await buildGlyphModel());

test('mrz reader: reads rendered OCR-B at several sizes and blurs exactly', { skip: FONT_SKIP }, async () => {
  const lines = buildTd3({ state: 'UTO', surname: 'ERIKSSON', given: 'ANNA MARIA', number: 'L898902C3', nationality: 'UTO', birth: '740812', sex: 'F', expiry: '340415', personal: 'ZE184226B' });
  for (const [px, blur] of [[16, 0], [22, 1.2], [30, 2]] as const) {
    const img = await renderMrzLines(lines, px, { blur });
    const r = readMrzInFrame(await getModel(), { ...img, t: 0, index: 0 });
    assert.ok(r, `located at ${px}px`);
    const dec = voteAndDecode([r], NOW)!;
    assert.deepEqual(dec.lines, lines, `read at ${px}px blur ${blur}`);
    assert.equal(dec.fields.valid, true);
  }
});

test('mrz reader: a TD1 is located and read; no MRZ in a blank image', { skip: FONT_SKIP }, async () => {
  const lines = buildTd1({ state: 'FRA', surname: 'DUPONT', given: 'MARIE', number: 'X4RTBPFW4', nationality: 'FRA', birth: '900215', sex: 'F', expiry: '330101' });
  const img = await renderMrzLines(lines, 24, { blur: 0.8 });
  const r0 = readMrzInFrame(await getModel(), { ...img, t: 0, index: 0 })!;
  assert.ok(r0);
  assert.deepEqual(voteAndDecode([r0], NOW)!.lines, lines);
  const blank = { width: 800, height: 400, data: Buffer.alloc(800 * 400 * 3, 255), t: 0, index: 0 };
  assert.equal(readMrzInFrame(await getModel(), blank), null);
});

test('mrz reader: corpus documents with a fully visible MRZ (no wrong read passes the check digits)', { skip: CORPUS_SKIP || FONT_SKIP }, async () => {
  const sharp = (await import('sharp')).default;
  const { corpusDir } = await import('./helpers.ts');
  let exact = 0; let total = 0;
  for (const d of labels().documents) {
    if (!d.mrz_lines.length || d.mrz_check_digits_valid !== true) continue;
    total++;
    const { data, info } = await sharp(`${corpusDir()}/${d.file}`).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const r = readMrzInFrame(await getModel(), { data, width: info.width, height: info.height, t: 0, index: 0 });
    const dec = r ? voteAndDecode([r], NOW) : null;
    if (!dec) continue;
    const isExact = dec.lines.every((l, i) => l === d.mrz_lines[i]);
    if (isExact) exact++;
    // a read trusted by the engine (quality ≥ 0.8 and valid check digits) must be right in every protected field
    if (dec.meanScore >= 0.8 && dec.fields.valid) {
      const truth = parseMrz(d.mrz_lines, NOW)!;
      assert.equal(dec.fields.documentNumber, truth.documentNumber, d.file);
      assert.equal(dec.fields.birthDate, truth.birthDate, d.file);
      assert.equal(dec.fields.expiryDate, truth.expiryDate, d.file);
    }
  }
  assert.ok(exact >= Math.floor(total * 0.75), `exact ${exact}/${total}`);
});

test('identity: accent, case, compound and transliteration tolerant', () => {
  const mrz = { surname: 'MULLER LUDENSCHEID', givenNames: 'JORG ANDRE', birthDate: '1964-08-12' };
  assert.equal(compareIdentity({ firstname: 'Jörg', lastname: 'Müller-Lüdenscheid', birthday: '1964-08-12' }, mrz).match, true);
  assert.equal(compareIdentity({ firstname: 'jorg andré', lastname: 'MULLER LUDENSCHEID', birthday: '1964-08-12' }, mrz).match, true);
  assert.equal(compareIdentity({ firstname: 'Jörg', lastname: 'Mueller-Luedenscheid', birthday: '1964-08-12' }, { ...mrz, surname: 'MUELLER LUEDENSCHEID' }).match, true);
  assert.equal(compareIdentity({ firstname: 'Jörg', lastname: 'Müller', birthday: '1964-08-12' }, mrz).match, true, 'one part of a compound surname');
  assert.equal(compareIdentity({ firstname: 'Marie-Claire', lastname: "D'Artagnan", birthday: '1990-02-15' }, { surname: 'D ARTAGNAN', givenNames: 'MARIE CLAIRE', birthDate: '1990-02-15' }).match, true);
  assert.equal(compareIdentity({ firstname: 'Jörg', lastname: 'Schmidt', birthday: '1964-08-12' }, mrz).match, false, 'other surname');
  assert.equal(compareIdentity({ firstname: 'Paul', lastname: 'Müller', birthday: '1964-08-12' }, mrz).match, false, 'other first name');
  assert.equal(compareIdentity({ firstname: 'Jörg', lastname: 'Müller', birthday: '1964-08-13' }, mrz).match, false, 'other birthday');
  assert.ok(nameVariants('ß').some((v) => v[0] === 'SS'));
  const near = compareIdentity({ firstname: 'Christophe', lastname: 'Ulysse', birthday: '1960-04-10' }, { surname: 'ULYSSE', givenNames: 'CHRISTOPHF', birthDate: '1960-04-10' });
  assert.equal(near.match, false); assert.equal(near.nearMiss, true, 'one character off → review, not refusal');
  assert.equal(compareIdentity({ firstname: 'Paul', lastname: 'Martin', birthday: '1960-04-10' }, { surname: 'ULYSSE', givenNames: 'CHRISTOPHE', birthDate: '1960-04-10' }).nearMiss, false);
});
