import { buildRedirectUrl } from '../../domain/redirects.ts';
import { reasonsForEndUser } from '../../domain/reasons.ts';
import { effectiveState } from '../../domain/verification/transitions.ts';
import { applyPatch } from '../../storage/db/repo/verifications.ts';
import { publicBranding } from '../branding/client-branding.ts';
import type { AppDeps } from '../deps.ts';
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
  if (state === 'initiated' && !v.startedAt) await applyPatch(deps.db, v.id, { startedAt: now }, now);
  const c = await deps.db.query<{ name: string; branding: Record<string, unknown> }>(
    'select name, branding from clients where id = $1',
    [v.clientId],
  );
  const media = await deps.db.query<{ step: string }>('select step from capture_media where verification_id = $1', [
    v.id,
  ]);
  const h = await deps.db.query<{ claimed: boolean; pending: boolean }>(
    `select bool_or(claimed_at is not null) as claimed, bool_or(claimed_at is null and expires_at > $2) as pending
       from capture_handoffs where verification_id = $1`,
    [v.id, now],
  );
  const finished = state === 'processing' || state === 'processed' || state === 'aborted';
  return {
    identificationId: v.id,
    state,
    acceptsUploads: state === 'initiated',
    method: v.method,
    challenges: v.challenges,
    steps: CAPTURE_STEPS,
    requiredSteps: requiredSteps(v.documentType),
    uploadedSteps: media.rows.map((r) => r.step),
    expiresAt: v.expiresAt.toISOString(),
    via,
    handoff: h.rows[0]?.claimed ? 'claimed' : h.rows[0]?.pending ? 'pending' : 'none',
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
    branding: publicBranding(c.rows[0]?.name ?? '', c.rows[0]?.branding ?? {}),
    // Only codes safe for the end user (capture quality, document acceptability).
    userReasons:
      state === 'processed'
        ? reasonsForEndUser(v.reasons ?? []).map((r) => ({ code: r.code, message: r.message }))
        : [],
  };
}
