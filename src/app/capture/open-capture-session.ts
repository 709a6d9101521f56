import { buildRedirectUrl } from '../../domain/redirects.ts';
import { reasonsForEndUser } from '../../domain/reasons.ts';
import { effectiveState } from '../../domain/verification/transitions.ts';
import { findById } from '../../storage/db/repo/verifications.ts';
import { publicBranding } from '../branding/client-branding.ts';
import { handoffStatus, listMediaSteps } from '../../storage/db/repo/capture.ts';
import { findClient } from '../../storage/db/repo/clients.ts';
import type { AppDeps } from '../deps.ts';
import { commitTransition } from '../verifications/commit-transition.ts';
import { CAPTURE_STEPS, requiredSteps, resolveCaptureToken } from './capture-session.ts';

/**
 * A phone only grants the camera to a secure context: a QR code to a plain-http public address
 * would lead nowhere. Loopback stays allowed for development (a desktop browser plays the phone).
 */
function phoneCanUse(publicBaseUrl: string): boolean {
  const u = new URL(publicBaseUrl);
  return u.protocol === 'https:' || /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(u.hostname);
}

/**
 * What the hosted capture app needs to render: state, method, challenge script, steps, branding,
 * handoff progress and, once the capture is over, the final redirect (the desktop performs it
 * when a phone did the filming). Opening an initiated session records started_at. Never includes
 * the user's personal data nor AML-sensitive reasons.
 */
export async function openCaptureSession(deps: AppDeps, token: unknown): Promise<Record<string, unknown>> {
  const { verification: v, via } = await resolveCaptureToken(deps.db, token);
  const now = deps.clock.now();
  const state = effectiveState(v, now);
  if (state === 'initiated' && !v.startedAt) {
    // The first opening is recorded (started_at) through the domain's open transition.
    await deps.db.transaction(async (tx) => {
      const locked = await findById(tx, v.id, true);
      if (locked && effectiveState(locked, now) === 'initiated')
        await commitTransition(tx, locked, { type: 'open' }, now);
    });
  }
  const client = await findClient(deps.db, v.clientId);
  const uploadedSteps = await listMediaSteps(deps.db, v.id);
  const handoff = await handoffStatus(deps.db, v.id, now);
  const finished = state === 'processing' || state === 'processed' || state === 'aborted';
  return {
    identificationId: v.id,
    state,
    acceptsUploads: state === 'initiated',
    method: v.method,
    challenges: v.challenges,
    steps: CAPTURE_STEPS,
    requiredSteps: requiredSteps(v.documentType),
    uploadedSteps,
    expiresAt: v.expiresAt.toISOString(),
    via,
    handoff,
    handoffAvailable: via === 'link' && phoneCanUse(deps.config.publicBaseUrl),
    redirectUrl: finished
      ? buildRedirectUrl(
          v.redirectUrl,
          v.id,
          state === 'aborted'
            ? { status: 'aborted', returnReason: v.returnReason ?? 'error', errorType: v.errorType ?? 'none' }
            : { status: 'processing', returnReason: 'none', errorType: 'none' },
        )
      : null,
    branding: publicBranding(client?.name ?? '', client?.branding ?? {}),
    // Only codes safe for the end user (capture quality, document acceptability).
    userReasons:
      state === 'processed'
        ? reasonsForEndUser(v.reasons ?? []).map((r) => ({ code: r.code, message: r.message }))
        : [],
  };
}
