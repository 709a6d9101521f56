import { reasonsForEndUser } from '../../domain/reasons.ts';
import { effectiveState } from '../../domain/verification/transitions.ts';
import { applyPatch } from '../../storage/db/repo/verifications.ts';
import type { AppDeps } from '../deps.ts';
import { CAPTURE_STEPS, findByCaptureToken, requiredSteps } from './capture-session.ts';

/**
 * What the hosted capture app needs to render: state, method, challenge script, steps, branding.
 * Opening an initiated session records started_at. Never includes the user's personal data nor
 * AML-sensitive reasons.
 */
export async function openCaptureSession(deps: AppDeps, token: unknown): Promise<Record<string, unknown>> {
  const v = await findByCaptureToken(deps.db, token);
  const now = deps.clock.now();
  const state = effectiveState(v, now);
  if (state === 'initiated' && !v.startedAt) await applyPatch(deps.db, v.id, { startedAt: now }, now);
  const c = await deps.db.query<{ name: string; branding: Record<string, unknown> }>('select name, branding from clients where id = $1', [v.clientId]);
  const media = await deps.db.query<{ step: string }>('select step from capture_media where verification_id = $1', [v.id]);
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
    branding: { name: c.rows[0]?.name ?? '', ...(c.rows[0]?.branding ?? {}) },
    // Only codes safe for the end user (capture quality, document acceptability).
    userReasons: state === 'processed' ? reasonsForEndUser(v.reasons ?? []).map((r) => ({ code: r.code, message: r.message })) : [],
  };
}
