/**
 * Identity comparison between the MRZ and the expected user (2401). Names are compared after ICAO
 * 9303 transliteration (accents dropped, Ä→AE/A, ß→SS …), case-folded, with hyphens/apostrophes as
 * separators; compound names match when all tokens of the shorter side appear on the other side;
 * MRZ truncation (long names cut at the field end) is tolerated. Birth dates compare as YYMMDD when
 * the MRZ century is ambiguous.
 */

const SPECIAL: Record<string, string[]> = {
  Ä: ['AE', 'A'],
  Ö: ['OE', 'O'],
  Ü: ['UE', 'U'],
  ß: ['SS'],
  Æ: ['AE'],
  Ø: ['OE', 'O'],
  Å: ['AA', 'A'],
  Œ: ['OE'],
  Þ: ['TH'],
  Ð: ['D'],
  Ł: ['L'],
  Ĳ: ['IJ'],
};

/** All ICAO-plausible upper-case ASCII forms of a name (token lists). */
export function nameVariants(name: string): string[][] {
  const up = name.toUpperCase().replace(/ẞ/g, 'ß');
  let forms = [''];
  for (const ch of up) {
    const alts = SPECIAL[ch];
    if (alts) {
      forms = forms.flatMap((f) => alts.map((a) => f + a)).slice(0, 16);
      continue;
    }
    const base = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
    forms = forms.map((f) => f + (/[A-Z]/.test(base) ? base : ' '));
  }
  return [...new Set(forms.map((f) => f.trim().replace(/\s+/g, ' ')))].map((f) => f.split(' ').filter(Boolean));
}

function tokensMatch(expected: string[], mrz: string[], truncatedAllowed: boolean): boolean {
  if (!expected.length || !mrz.length) return false;
  const joinE = expected.join('');
  const joinM = mrz.join('');
  if (joinE === joinM) return true;
  if (truncatedAllowed && joinM.length >= 10 && joinE.startsWith(joinM)) return true;
  const [short, long] = expected.length <= mrz.length ? [expected, mrz] : [mrz, expected];
  return short.every(
    (t) =>
      long.includes(t) ||
      (truncatedAllowed && t === short[short.length - 1] && long.some((l) => l.startsWith(t) && t.length >= 3)),
  );
}

export interface IdentityComparison {
  lastname: boolean;
  firstname: boolean;
  birthday: boolean | null;
  match: boolean;
  /** Names differ by a single character (MRZ names carry no check digit: could be a misread). */
  nearMiss: boolean;
}

/** Levenshtein distance, capped (small strings only). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

export function compareIdentity(
  expected: { firstname: string; lastname: string; birthday: string },
  mrz: { surname: string; givenNames: string; birthDate: string | null },
): IdentityComparison {
  const mrzSur = mrz.surname
    .toUpperCase()
    .split(/[\s<]+/)
    .filter(Boolean);
  const mrzGiven = mrz.givenNames
    .toUpperCase()
    .split(/[\s<]+/)
    .filter(Boolean);
  const lastname = nameVariants(expected.lastname).some((v) => tokensMatch(v, mrzSur, true));
  // first name: every token of the expected first name must be among the MRZ given names (which may list more names)
  const firstname = nameVariants(expected.firstname).some(
    (v) =>
      v.length > 0 &&
      v.every(
        (t) =>
          mrzGiven.includes(t) ||
          mrzGiven.join('') === v.join('') ||
          (mrzGiven.length > 0 &&
            mrzGiven[mrzGiven.length - 1].length >= 3 &&
            t.startsWith(mrzGiven[mrzGiven.length - 1]) &&
            mrz.givenNames.length >= 10),
      ),
  );
  let birthday: boolean | null = null;
  if (mrz.birthDate && /^\d{4}-\d{2}-\d{2}$/.test(expected.birthday)) {
    birthday = mrz.birthDate === expected.birthday || mrz.birthDate.slice(2) === expected.birthday.slice(2);
  }
  const near = (expectedName: string, mrzTokens: string[]) =>
    nameVariants(expectedName).some((v) => v.join('').length >= 5 && editDistance(v.join(''), mrzTokens.join('')) <= 1);
  const nearMiss =
    birthday !== false &&
    (lastname || near(expected.lastname, mrzSur)) &&
    (firstname || near(expected.firstname, mrzGiven)) &&
    !(lastname && firstname);
  return { lastname, firstname, birthday, match: lastname && firstname && birthday !== false, nearMiss };
}
