import { KycError } from '../../domain/errors.ts';
import { sha256Hex } from '../../lib/secrets.ts';
import { findByTokenHash, type Verification } from '../../storage/db/repo/verifications.ts';
import type { Queryable } from '../ports.ts';

export const CAPTURE_STEPS = ['document_front', 'document_back', 'document_tilt', 'face'] as const;
export type CaptureStep = (typeof CAPTURE_STEPS)[number];
export const DOCUMENT_TYPES = ['id_card', 'passport', 'residence_permit'] as const;

/** Steps that must be uploaded before completion; a passport has no back to film. */
export function requiredSteps(documentType: string | null | undefined): CaptureStep[] {
  return documentType === 'passport' ? ['document_front', 'face'] : ['document_front', 'document_back', 'face'];
}

/** The identification-url token is the only credential of the end user: unknown and malformed look the same. */
export async function findByCaptureToken(q: Queryable, token: unknown, forUpdate = false): Promise<Verification> {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token)) throw new KycError('not_found', 'Unknown identification link.');
  const v = await findByTokenHash(q, sha256Hex(token), forUpdate);
  if (!v) throw new KycError('not_found', 'Unknown identification link.');
  return v;
}
