/**
 * The live-verification state machine as pure functions: (verification, event, now) →
 * { patch, effects }, or a thrown KycError. No I/O, no clock, no randomness: the use cases in
 * src/app load the row, call transition(), and persist the patch together with the effects
 * (outbox events, jobs) in one transaction.
 */
import { KycError } from '../errors.ts';
import { findAbortRow } from '../redirects.ts';
import { isReasonCode } from '../reasons.ts';
import { SUPERSEDABLE_STATES, type VerificationState } from './states.ts';

export interface VerificationSnapshot {
  id: string;
  state: VerificationState;
  expiresAt: Date;
  startedAt: Date | null;
  /** A processing verification whose automated verdict waits for a human: 'pending'. */
  review?: 'pending' | 'decided' | null;
}

export type VerificationEvent =
  | { type: 'open' }
  | { type: 'complete' }
  | { type: 'abort'; returnReason: string; errorType: string }
  /** The automated verdict; with `review`, it waits for a human decision instead of being final. */
  | { type: 'analysis_done'; score: number; reasons: number[]; comment: string; review?: boolean }
  /** The human decision on a verification waiting for one: final, and sent to the integrator. */
  | { type: 'review_decided'; score: number; reasons: number[]; comment: string }
  | { type: 'supersede'; by: string }
  | { type: 'expire' };

export type VerificationEffect =
  | { type: 'emit'; webhook: 'kycliveness.create' | 'kycliveness.update' }
  | { type: 'enqueue_analysis' }
  | { type: 'open_review' }
  | { type: 'cancel_review' };

export interface VerificationPatch {
  state?: VerificationState;
  startedAt?: Date;
  completedAt?: Date;
  processedAt?: Date;
  returnReason?: string;
  errorType?: string;
  score?: number;
  reasons?: number[];
  comment?: string;
  supersededBy?: string;
  review?: 'pending' | 'decided';
}

export interface TransitionResult {
  patch: VerificationPatch;
  effects: VerificationEffect[];
}

export interface NewVerification {
  id: string;
  state: 'initiated';
  method: 'liveness' | 'certified';
  redirectUrl: string;
  challenges: readonly unknown[];
  expiresAt: Date;
  createdAt: Date;
}

/**
 * POST kycliveness: a new verification, open for `ttlSeconds`. The user's live verifications are
 * then superseded by it, each through transition(…, { type: 'supersede' }).
 */
export function initiate(
  input: Pick<NewVerification, 'id' | 'method' | 'redirectUrl' | 'challenges'> & { ttlSeconds: number },
  now: Date,
): NewVerification {
  return {
    id: input.id,
    state: 'initiated',
    method: input.method,
    redirectUrl: input.redirectUrl,
    // Only the certified method carries a challenge script.
    challenges: input.method === 'certified' ? input.challenges : [],
    expiresAt: new Date(now.getTime() + input.ttlSeconds * 1000),
    createdAt: now,
  };
}

/** The state as of `now`: an initiated verification past its lifetime is expired even before the sweeper writes it. */
export function effectiveState(v: Pick<VerificationSnapshot, 'state' | 'expiresAt'>, now: Date): VerificationState {
  return v.state === 'initiated' && now.getTime() >= v.expiresAt.getTime() ? 'expired' : v.state;
}

/** Errors for an end-user action on a verification that no longer accepts it. */
function notOpen(_v: VerificationSnapshot, state: VerificationState): KycError {
  if (state === 'superseded') {
    return new KycError(
      'gone',
      'This live verification was replaced by a newer one; use the latest identification-url.',
      { details: { state } },
    );
  }
  if (state === 'expired') return new KycError('gone', 'This live verification has expired.', { details: { state } });
  return new KycError('conflict', `This live verification is already ${state}.`, { details: { state } });
}

/** A verdict, automated or human: a score of the provider's scale and catalogue reason codes. */
function checkVerdict(e: { score: number; reasons: number[] }): void {
  if (![1, 0, -1].includes(e.score))
    throw new KycError('invalid_request', 'score must be 1, 0 or -1.', { param: 'score' });
  const bad = e.reasons.find((c) => !isReasonCode(c));
  if (bad !== undefined)
    throw new KycError('invalid_request', `Unknown reason code ${String(bad)}.`, { param: 'reasons' });
}

export function transition(v: VerificationSnapshot, event: VerificationEvent, now: Date): TransitionResult {
  const state = effectiveState(v, now);
  switch (event.type) {
    case 'open': {
      if (state !== 'initiated') throw notOpen(v, state);
      return { patch: v.startedAt ? {} : { startedAt: now }, effects: [] };
    }
    case 'complete': {
      if (state !== 'initiated') throw notOpen(v, state);
      return {
        patch: {
          state: 'processing',
          completedAt: now,
          startedAt: v.startedAt ?? now,
          returnReason: 'none',
          errorType: 'none',
        },
        effects: [{ type: 'emit', webhook: 'kycliveness.create' }, { type: 'enqueue_analysis' }],
      };
    }
    case 'abort': {
      if (!findAbortRow(event.returnReason, event.errorType)) {
        throw new KycError('invalid_request', 'returnReason/errorType is not a documented abort combination.', {
          param: 'returnReason',
        });
      }
      if (state !== 'initiated') throw notOpen(v, state);
      return {
        patch: {
          state: 'aborted',
          completedAt: now,
          startedAt: v.startedAt ?? now,
          returnReason: event.returnReason,
          errorType: event.errorType,
        },
        effects: [{ type: 'emit', webhook: 'kycliveness.create' }],
      };
    }
    case 'analysis_done': {
      checkVerdict(event);
      // A late result for a superseded verification, a second run of the same job, or one that
      // comes while a human decides, changes nothing: this is what makes kycliveness.update
      // exactly-once.
      if (state !== 'processing' || v.review) return { patch: {}, effects: [] };
      if (event.review) return { patch: { review: 'pending' }, effects: [{ type: 'open_review' }] };
      return {
        patch: {
          state: 'processed',
          processedAt: now,
          score: event.score,
          reasons: [...new Set(event.reasons)],
          comment: event.comment,
        },
        effects: [{ type: 'emit', webhook: 'kycliveness.update' }],
      };
    }
    case 'review_decided': {
      checkVerdict(event);
      if (state !== 'processing' || v.review !== 'pending')
        throw new KycError('conflict', 'This live verification is not waiting for a human decision.', {
          details: { state },
        });
      return {
        patch: {
          state: 'processed',
          processedAt: now,
          score: event.score,
          reasons: [...new Set(event.reasons)],
          comment: event.comment,
          review: 'decided',
        },
        effects: [{ type: 'emit', webhook: 'kycliveness.update' }],
      };
    }
    case 'supersede': {
      // An unused link past its lifetime is written down as expired, not as replaced: that is what
      // it was when the newer verification arrived.
      if (state === 'expired' && v.state === 'initiated') return { patch: { state: 'expired' }, effects: [] };
      if (!SUPERSEDABLE_STATES.has(state)) return { patch: {}, effects: [] };
      return {
        patch: { state: 'superseded', supersededBy: event.by },
        // the human decision it was waiting for is of no use any more
        effects: v.review === 'pending' ? [{ type: 'cancel_review' }] : [],
      };
    }
    case 'expire': {
      if (state !== 'expired' || v.state !== 'initiated') return { patch: {}, effects: [] };
      return { patch: { state: 'expired' }, effects: [] };
    }
  }
}
