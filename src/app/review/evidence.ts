import { createHash } from 'node:crypto';

/**
 * What a human decision on a verification rests on: the analysis (its report's hash covers every
 * check and measurement) and the identity the user declared (the MRZ is compared with it). When
 * either changes, a decision waiting for its check is cleared (four eyes on the same evidence).
 */
export function verificationEvidenceHash(reportSha256: string | null, declared: Record<string, string>): string {
  const identity = ['firstname', 'lastname', 'birthday'].map((k) => declared[k] ?? '').join('\u0000');
  return createHash('sha256')
    .update(`${reportSha256 ?? ''}\u0000${identity}`)
    .digest('hex');
}

/** A KYC review rests on the user's (and children's) fields and documents. */
export function kycEvidenceHash(
  users: { id: number; fields: Record<string, string> }[],
  documents: { id: number; sha256: string; documentStatus: string }[],
): string {
  const h = createHash('sha256');
  for (const u of [...users].sort((a, b) => a.id - b.id))
    h.update(`${u.id}:${JSON.stringify(Object.entries(u.fields).sort(([a], [b]) => (a < b ? -1 : 1)))}\n`);
  for (const d of [...documents].sort((a, b) => a.id - b.id)) h.update(`${d.id}:${d.sha256}:${d.documentStatus}\n`);
  return h.digest('hex');
}
