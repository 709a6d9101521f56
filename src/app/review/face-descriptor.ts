import { subKey } from '../../lib/jwt.ts';
import { seal, unseal } from '../../lib/seal.ts';

const PURPOSE = 'face-descriptor';

/** A face descriptor as stored: sealed with a key derived from the server secret. */
export function sealFaceDescriptor(secret: Buffer, d: number[]): string {
  return seal(subKey(secret, PURPOSE), PURPOSE, Buffer.from(JSON.stringify(d)));
}

export function openFaceDescriptor(secret: Buffer, sealed: unknown): number[] | null {
  if (typeof sealed !== 'string') return null;
  const raw = unseal(subKey(secret, PURPOSE), PURPOSE, sealed);
  if (!raw) return null;
  const d = JSON.parse(raw.toString()) as unknown;
  return Array.isArray(d) && d.every((x) => typeof x === 'number') ? d : null;
}

export function euclidean(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}
