/**
 * MRZ parsing and validation (ICAO Doc 9303 parts 4-6: TD1 3×30, TD2 2×36, TD3 2×44, plus the old
 * French national identity card 2×36 format). Pure functions.
 */

export type MrzFormat = 'TD1' | 'TD2' | 'TD3' | 'FR_CNI';

export interface MrzCheck {
  field: string;
  valid: boolean;
}

export interface MrzFields {
  format: MrzFormat;
  documentCode: string;
  issuingState: string;
  surname: string;
  givenNames: string;
  documentNumber: string;
  nationality: string;
  /** YYYY-MM-DD (century chosen so the person is not born in the future). */
  birthDate: string | null;
  sex: 'M' | 'F' | null;
  /** YYYY-MM-DD, null when the format has none (old French CNI). */
  expiryDate: string | null;
  optional?: string;
  checks: MrzCheck[];
  valid: boolean;
}

const VAL: Record<string, number> = { '<': 0 };
for (let i = 0; i < 10; i++) VAL[String(i)] = i;
for (let i = 0; i < 26; i++) VAL[String.fromCharCode(65 + i)] = 10 + i;

export function charValue(c: string): number {
  return VAL[c] ?? 0;
}

/** ICAO 9303 check digit: weights 7-3-1 over character values ('<' = 0, A=10 … Z=35). */
export function checkDigit(s: string): number {
  const w = [7, 3, 1];
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += charValue(s[i]) * w[i % 3];
  return sum % 10;
}

/** A check-digit character matches: a digit equal to the computed value; '<' only when the field is empty (all fillers), as ICAO allows for optional fields. */
export function checkOk(field: string, digit: string, allowFiller = false): boolean {
  if (digit === '<') return allowFiller && /^<*$/.test(field);
  return /^\d$/.test(digit) && Number(digit) === checkDigit(field);
}

export const MRZ_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<';

const strip = (s: string) => s.replace(/<+$/g, '').replace(/</g, ' ').trim();

function names(s: string): { surname: string; givenNames: string } {
  const [sur, ...rest] = s.split('<<');
  return { surname: strip(sur ?? ''), givenNames: strip(rest.join('<<')).replace(/\s+/g, ' ') };
}

/** YYMMDD → YYYY-MM-DD. Birth dates: the latest century not in the future. Expiry: 20YY (documents valid ≤ 50 years out of 1970+). */
export function expandDate(yymmdd: string, kind: 'birth' | 'expiry', now: Date): string | null {
  if (!/^\d{6}$/.test(yymmdd)) return null;
  const yy = Number(yymmdd.slice(0, 2));
  const mm = Number(yymmdd.slice(2, 4));
  const dd = Number(yymmdd.slice(4, 6));
  if (mm < 1 || mm > 12 || dd < 1 || dd > 31) return null;
  const nowYY = now.getUTCFullYear() % 100;
  const century = kind === 'birth' ? (yy > nowYY ? 1900 : 2000) : yy >= 70 ? 1900 : 2000;
  return `${century + yy}-${yymmdd.slice(2, 4)}-${yymmdd.slice(4, 6)}`;
}

const sexOf = (c: string): 'M' | 'F' | null => (c === 'M' || c === 'F' ? c : null);

/** Which format a set of line lengths indicates. */
export function formatFor(lines: string[]): MrzFormat | null {
  if (lines.length === 3 && lines.every((l) => l.length === 30)) return 'TD1';
  if (lines.length === 2 && lines.every((l) => l.length === 44)) return 'TD3';
  if (lines.length === 2 && lines.every((l) => l.length === 36))
    return lines[0].startsWith('IDFRA') && !/^[A-Z0-9<]{9}\d[A-Z<]{3}\d{6}/.test(lines[1]) ? 'FR_CNI' : 'TD2';
  return null;
}

export function parseMrz(lines: string[], now: Date = new Date()): MrzFields | null {
  const fmt = formatFor(lines);
  if (!fmt) return null;
  const checks: MrzCheck[] = [];
  const add = (field: string, ok: boolean) => {
    checks.push({ field, valid: ok });
  };
  let f: Omit<MrzFields, 'checks' | 'valid'>;
  if (fmt === 'TD1') {
    const [a, b, c] = lines;
    // long document numbers overflow into the optional field (ICAO 9303-5 §4.2.2 note j)
    let num = a.slice(5, 14);
    let numCheck = a[14];
    let optional = a.slice(15, 30);
    if (numCheck === '<' && /[0-9A-Z]/.test(optional[0] ?? '')) {
      const m = /^([0-9A-Z]*?)(\d)</.exec(optional);
      if (m) {
        num = num + m[1];
        numCheck = m[2];
        optional = optional.slice(m[0].length - 1);
      }
    }
    add('document_number', checkOk(num, numCheck));
    add('birth_date', checkOk(b.slice(0, 6), b[6]));
    add('expiry_date', checkOk(b.slice(8, 14), b[14]));
    add('composite', checkOk(a.slice(5, 30) + b.slice(0, 7) + b.slice(8, 15) + b.slice(18, 29), b[29]));
    f = {
      format: fmt,
      documentCode: strip(a.slice(0, 2)),
      issuingState: strip(a.slice(2, 5)),
      ...names(c),
      documentNumber: strip(num),
      nationality: strip(b.slice(15, 18)),
      birthDate: expandDate(b.slice(0, 6), 'birth', now),
      sex: sexOf(b[7]),
      expiryDate: expandDate(b.slice(8, 14), 'expiry', now),
      optional: strip(optional),
    };
  } else if (fmt === 'TD2' || fmt === 'TD3') {
    const [a, b] = lines;
    const L = fmt === 'TD3' ? 44 : 36;
    add('document_number', checkOk(b.slice(0, 9), b[9]));
    add('birth_date', checkOk(b.slice(13, 19), b[19]));
    add('expiry_date', checkOk(b.slice(21, 27), b[27]));
    if (fmt === 'TD3') {
      add('personal_number', checkOk(b.slice(28, 42), b[42], true));
      add('composite', checkOk(b.slice(0, 10) + b.slice(13, 20) + b.slice(21, 43), b[43]));
    } else {
      add('composite', checkOk(b.slice(0, 10) + b.slice(13, 20) + b.slice(21, 35), b[35]));
    }
    f = {
      format: fmt,
      documentCode: strip(a.slice(0, 2)),
      issuingState: strip(a.slice(2, 5)),
      ...names(a.slice(5, L)),
      documentNumber: strip(b.slice(0, 9)),
      nationality: strip(b.slice(10, 13)),
      birthDate: expandDate(b.slice(13, 19), 'birth', now),
      sex: sexOf(b[20]),
      expiryDate: expandDate(b.slice(21, 27), 'expiry', now),
      optional: strip(b.slice(28, L - 2)),
    };
  } else {
    // Old French CNI: l1 = ID FRA surname(25) dept(3) office(3); l2 = number(12) check(1) given(14) birth(6) check sex composite
    const [a, b] = lines;
    add('document_number', checkOk(b.slice(0, 12), b[12]));
    add('birth_date', checkOk(b.slice(27, 33), b[33]));
    add('composite', checkOk(a + b.slice(0, 35), b[35]));
    f = {
      format: fmt,
      documentCode: 'ID',
      issuingState: 'FRA',
      surname: strip(a.slice(5, 30)),
      givenNames: strip(b.slice(13, 27)).replace(/\s+/g, ' '),
      documentNumber: b.slice(0, 12),
      nationality: 'FRA',
      birthDate: expandDate(b.slice(27, 33), 'birth', now),
      sex: sexOf(b[34]),
      expiryDate: null,
    };
  }
  return { ...f, checks, valid: checks.every((c) => c.valid) };
}

/** Builds the check digits of a TD3 line 2 from its data (for fixtures and tests). */
export function buildTd3(d: {
  code?: string;
  state: string;
  surname: string;
  given: string;
  number: string;
  nationality: string;
  birth: string;
  sex: 'M' | 'F' | '<';
  expiry: string;
  personal?: string;
}): string[] {
  const pad = (s: string, n: string | number) => (s + '<'.repeat(Number(n))).slice(0, Number(n));
  const name = (s: string) => s.toUpperCase().replace(/[^A-Z]+/g, '<');
  const l1 = pad(`${pad(d.code ?? 'P', 2)}${pad(d.state, 3)}${name(d.surname)}<<${name(d.given)}`, 44);
  const num = pad(d.number, 9);
  const pers = pad(d.personal ?? '', 14);
  const persCheck = /^<*$/.test(pers) ? '<' : String(checkDigit(pers));
  const body = `${num}${checkDigit(num)}${pad(d.nationality, 3)}${d.birth}${checkDigit(d.birth)}${d.sex}${d.expiry}${checkDigit(d.expiry)}${pers}${persCheck}`;
  const comp = body.slice(0, 10) + body.slice(13, 20) + body.slice(21, 43);
  return [l1, body + checkDigit(comp)];
}

/** Builds TD1 lines (for fixtures and tests). */
export function buildTd1(d: {
  code?: string;
  state: string;
  surname: string;
  given: string;
  number: string;
  nationality: string;
  birth: string;
  sex: 'M' | 'F' | '<';
  expiry: string;
  optional?: string;
}): string[] {
  const pad = (s: string, n: number) => (s + '<'.repeat(n)).slice(0, n);
  const name = (s: string) => s.toUpperCase().replace(/[^A-Z]+/g, '<');
  const num = pad(d.number, 9);
  const l1 = pad(`${pad(d.code ?? 'ID', 2)}${pad(d.state, 3)}${num}${checkDigit(num)}${d.optional ?? ''}`, 30);
  const l2a = `${d.birth}${checkDigit(d.birth)}${d.sex}${d.expiry}${checkDigit(d.expiry)}${pad(d.nationality, 3)}${'<'.repeat(11)}`;
  const comp = l1.slice(5, 30) + l2a.slice(0, 7) + l2a.slice(8, 15) + l2a.slice(18, 29);
  const l3 = pad(`${name(d.surname)}<<${name(d.given)}`, 30);
  return [l1, l2a + checkDigit(comp), l3];
}
