import { KycError } from '../../domain/errors.ts';
import { sha256Hex } from '../../lib/secrets.ts';
import { findById, findByTokenHash, type Verification } from '../../storage/db/repo/verifications.ts';
import { findVerificationIdByPhoneToken } from '../../storage/db/repo/capture.ts';
import type { Queryable } from '../ports.ts';

export const CAPTURE_STEPS = ['document_front', 'document_back', 'document_tilt', 'face'] as const;
export type CaptureStep = (typeof CAPTURE_STEPS)[number];
export const DOCUMENT_TYPES = ['id_card', 'passport', 'residence_permit'] as const;

/** Steps that must be uploaded before completion; a passport has no back to film. */
export function requiredSteps(documentType: string | null | undefined): CaptureStep[] {
  return documentType === 'passport' ? ['document_front', 'face'] : ['document_front', 'document_back', 'face'];
}

export const isTokenShape = (t: unknown): t is string => typeof t === 'string' && /^[A-Za-z0-9_-]{43}$/.test(t);

/**
 * The identification-url token is the only credential of the end user: unknown and malformed
 * look the same. A phone that claimed a desktop's handoff link holds its own token for the same
 * verification (`via: 'handoff'`), so the desktop can tell who films.
 */
export async function resolveCaptureToken(
  q: Queryable,
  token: unknown,
  forUpdate = false,
): Promise<{ verification: Verification; via: 'link' | 'handoff' }> {
  if (!isTokenShape(token)) throw new KycError('not_found', 'Unknown identification link.');
  const hash = sha256Hex(token);
  const v = await findByTokenHash(q, hash, forUpdate);
  if (v) return { verification: v, via: 'link' };
  const viaPhone = await findVerificationIdByPhoneToken(q, hash);
  const hv = viaPhone ? await findById(q, viaPhone, forUpdate) : null;
  if (!hv) throw new KycError('not_found', 'Unknown identification link.');
  return { verification: hv, via: 'handoff' };
}

export async function findByCaptureToken(q: Queryable, token: unknown, forUpdate = false): Promise<Verification> {
  return (await resolveCaptureToken(q, token, forUpdate)).verification;
}
