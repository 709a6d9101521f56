/**
 * The identity the user declared against the one read from the document's MRZ, field by field, as
 * a reviewer compares them: case, accents, hyphens and spacing do not count; the MRZ's truncation
 * of long names does (a name cut in the MRZ is a prefix of the declared one, reported as such).
 */
export interface IdentityRow {
  field: 'firstname' | 'lastname' | 'birthday';
  declared: string;
  document: string;
  result: 'match' | 'prefix' | 'mismatch' | 'missing';
}

export function normaliseName(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^A-Z]+/g, ' ')
    .trim();
}

export function compareIdentity(
  declared: Record<string, string | undefined>,
  document: Record<string, string | undefined> | null,
): IdentityRow[] {
  return (['firstname', 'lastname', 'birthday'] as const).map((field) => {
    const a = declared[field] ?? '';
    const b = document?.[field] ?? '';
    if (!a || !b) return { field, declared: a, document: b, result: 'missing' };
    if (field === 'birthday') return { field, declared: a, document: b, result: a === b ? 'match' : 'mismatch' };
    const x = normaliseName(a);
    const y = normaliseName(b);
    if (x === y) return { field, declared: a, document: b, result: 'match' };
    // The MRZ keeps the first given name, or cuts a long name at the line's length.
    if (x.startsWith(y) || x.split(' ')[0] === y) return { field, declared: a, document: b, result: 'prefix' };
    return { field, declared: a, document: b, result: 'mismatch' };
  });
}
