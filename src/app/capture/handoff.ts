/**
 * Desktop → phone handoff. A desktop rarely has a usable rear camera, so the app offers a QR code
 * of a one-time link: it expires quickly and works once, so a photographed screen or a leaked
 * link is of little use. Claiming it mints the phone's own capture token for the same
 * verification; the desktop keeps polling the session and performs the final redirect.
 */
import { randomUUID } from 'node:crypto';
import { renderSVG } from 'uqr';
import { KycError } from '../../domain/errors.ts';
import { transition } from '../../domain/verification/transitions.ts';
import { randomToken, sha256Hex } from '../../lib/secrets.ts';
import { findById } from '../../storage/db/repo/verifications.ts';
import {
  claimHandoff as markHandoffClaimed,
  countHandoffs,
  insertHandoff,
  lockHandoffByLink,
} from '../../storage/db/repo/capture.ts';
import type { AppDeps } from '../deps.ts';
import { isTokenShape, resolveCaptureToken } from './capture-session.ts';

export const HANDOFF_TTL_SECONDS = 10 * 60;
const MAX_HANDOFFS_PER_VERIFICATION = 10;

export async function createHandoff(
  deps: AppDeps,
  token: unknown,
): Promise<{ url: string; expiresAt: string; qrSvg: string }> {
  const { verification: v, via } = await resolveCaptureToken(deps.db, token);
  const now = deps.clock.now();
  transition({ id: v.id, state: v.state, expiresAt: v.expiresAt, startedAt: v.startedAt }, { type: 'open' }, now);
  if (via === 'handoff') throw new KycError('conflict', 'This session is already on a phone.');
  if ((await countHandoffs(deps.db, v.id)) >= MAX_HANDOFFS_PER_VERIFICATION)
    throw new KycError('rate_limited', 'Too many phone links for this verification.');
  const link = randomToken(32);
  const expiresAt = new Date(Math.min(now.getTime() + HANDOFF_TTL_SECONDS * 1000, v.expiresAt.getTime()));
  await insertHandoff(deps.db, {
    id: randomUUID(),
    verificationId: v.id,
    linkTokenHash: sha256Hex(link),
    expiresAt,
    at: now,
  });
  const url = `${deps.config.publicBaseUrl}/identification/h/${link}`;
  return { url, expiresAt: expiresAt.toISOString(), qrSvg: renderSVG(url, { ecc: 'M', border: 2 }) };
}

/** Opens the one-time link: returns the phone's capture token. Used or expired links are gone (410). */
export async function claimHandoff(deps: AppDeps, linkToken: unknown): Promise<{ phoneToken: string }> {
  if (!isTokenShape(linkToken)) throw new KycError('not_found', 'Unknown link.');
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const h = await lockHandoffByLink(tx, sha256Hex(linkToken));
    if (!h) throw new KycError('not_found', 'Unknown link.');
    if (h.claimedAt) throw new KycError('gone', 'This link was already used.', { details: { reason: 'used' } });
    if (now.getTime() >= h.expiresAt.getTime())
      throw new KycError('gone', 'This link has expired.', { details: { reason: 'expired' } });
    const v = (await findById(tx, h.verificationId))!;
    transition({ id: v.id, state: v.state, expiresAt: v.expiresAt, startedAt: v.startedAt }, { type: 'open' }, now);
    const phoneToken = randomToken(32);
    await markHandoffClaimed(tx, h.id, sha256Hex(phoneToken), now);
    return { phoneToken };
  });
}
