/**
 * A review case: one piece of work for compliance staff. Either a verification waiting for its
 * human decision (every certified verification, every liveness one the automation could not decide,
 * and a configurable sample of the others) or a user's KYC review. Pure state machine, like the
 * verification's: (case, event, now) → { patch, effects } or a thrown KycError.
 *
 *   open ──decide (four-eyes)──▶ pending_check ──approve (another person)──▶ closed
 *     │  ◀──────── send_back, or the evidence changed ─────────┘
 *     ├──decide (no four-eyes)──▶ closed
 *     └──cancel (verification superseded)──▶ cancelled
 *
 * A case that closes yields the `finalize` effect: the use case then applies the decision to the
 * verification (its kycliveness.update) or to the user (user.kycreview).
 */
import { KycError } from '../errors.ts';
import { isReasonCode } from '../reasons.ts';
import { can, type StaffPrincipal } from './staff.ts';

export const CASE_STATES = ['open', 'pending_check', 'closed', 'cancelled'] as const;
export type CaseState = (typeof CASE_STATES)[number];
export type CaseKind = 'verification' | 'kyc_review';

/** Why a case is in the queue. */
export type QueueReason = 'certified' | 'undecided' | 'sampled' | 'kyc_review';

export interface Decision {
  outcome: 'approve' | 'refuse';
  /** Reason codes of the catalogue (refusals only; 2403 is the human's to give). */
  reasons: number[];
  comment: string;
  /** Every item of the method's checklist, answered. */
  checklist: Record<string, boolean>;
  /** KYC review only: the level a validation grants. */
  kycLevel?: number;
}

export interface Proposal extends Decision {
  by: string;
  at: string;
  /** The evidence the decision was made on: a change clears the proposal. */
  evidenceHash: string | null;
}

export interface CaseSnapshot {
  id: string;
  kind: CaseKind;
  state: CaseState;
  fourEyes: boolean;
  assignee: string | null;
  proposal: Proposal | null;
  evidenceHash: string | null;
  /** liveness | certified for a verification case; the checklist depends on it. */
  method: 'liveness' | 'certified' | null;
}

export type CaseEvent =
  | { type: 'claim'; staff: StaffPrincipal }
  | { type: 'assign'; staff: StaffPrincipal; to: string | null }
  | { type: 'decide'; staff: StaffPrincipal; decision: Decision }
  | { type: 'approve'; staff: StaffPrincipal }
  | { type: 'send_back'; staff: StaffPrincipal; comment: string }
  | { type: 'evidence_changed'; evidenceHash: string }
  | { type: 'cancel' };

export interface CasePatch {
  state?: CaseState;
  assignee?: string | null;
  assignedAt?: Date | null;
  proposal?: Proposal | null;
  decision?: (Decision & { by: string; checkedBy: string | null; at: string }) | null;
  evidenceHash?: string;
  closedAt?: Date;
}

export type CaseEffect = { type: 'finalize'; decision: Decision } | { type: 'proposal_cleared'; why: string };

export interface CaseResult {
  patch: CasePatch;
  effects: CaseEffect[];
}

/** The checklist a decision must answer in full, per kind and method. */
export function checklistFor(c: Pick<CaseSnapshot, 'kind' | 'method'>): readonly string[] {
  if (c.kind === 'kyc_review')
    return ['identity_documents_complete', 'information_consistent', 'sanctions_and_pep_screened'];
  const base = ['document_genuine_and_valid', 'same_person', 'liveness_performed'];
  return c.method === 'certified' ? [...base, 'challenges_performed'] : base;
}

const forbidden = (message: string) => new KycError('forbidden', message);
const conflict = (message: string, state: CaseState) => new KycError('conflict', message, { details: { state } });

/** A decision well formed for this case: the whole checklist, catalogue codes, reasons only to refuse. */
export function validateDecision(c: Pick<CaseSnapshot, 'kind' | 'method'>, d: Decision): Decision {
  const items = checklistFor(c);
  const missing = items.filter((i) => typeof d.checklist[i] !== 'boolean');
  if (missing.length)
    throw new KycError('invalid_request', `The checklist must answer ${missing.join(', ')}.`, { param: 'checklist' });
  const unknown = Object.keys(d.checklist).find((k) => !items.includes(k));
  if (unknown) throw new KycError('invalid_request', `Unknown checklist item: ${unknown}.`, { param: 'checklist' });
  const bad = d.reasons.find((r) => !isReasonCode(r));
  if (bad !== undefined) throw new KycError('invalid_request', `Unknown reason code ${bad}.`, { param: 'reasons' });
  if (d.comment.length > 2000)
    throw new KycError('invalid_request', 'comment must be at most 2000 characters.', { param: 'comment' });
  if (d.outcome === 'approve') {
    if (d.reasons.length)
      throw new KycError('invalid_request', 'An approval carries no reason code.', { param: 'reasons' });
    const no = items.filter((i) => !d.checklist[i]);
    if (no.length)
      throw new KycError(
        'invalid_request',
        `An approval needs every checklist item confirmed; not: ${no.join(', ')}.`,
        {
          param: 'checklist',
        },
      );
  } else {
    if (c.kind === 'verification' && d.reasons.length === 0)
      throw new KycError('invalid_request', 'A refusal needs at least one reason code.', { param: 'reasons' });
    if (!d.comment.trim()) throw new KycError('invalid_request', 'A refusal needs a comment.', { param: 'comment' });
  }
  return { ...d, reasons: [...new Set(d.reasons)] };
}

const open = (c: CaseSnapshot) => c.state === 'open' || c.state === 'pending_check';

export function reviewTransition(c: CaseSnapshot, event: CaseEvent, now: Date): CaseResult {
  switch (event.type) {
    case 'claim': {
      if (!can(event.staff, 'claim')) throw forbidden('Your role cannot take cases.');
      if (!open(c)) throw conflict(`This case is ${c.state}.`, c.state);
      if (c.assignee === event.staff.id) return { patch: {}, effects: [] };
      if (c.assignee !== null) throw conflict('This case is assigned to someone else.', c.state);
      return { patch: { assignee: event.staff.id, assignedAt: now }, effects: [] };
    }
    case 'assign': {
      if (!can(event.staff, 'assign')) throw forbidden('Only an admin assigns cases.');
      if (!open(c)) throw conflict(`This case is ${c.state}.`, c.state);
      return { patch: { assignee: event.to, assignedAt: event.to ? now : null }, effects: [] };
    }
    case 'decide': {
      if (!can(event.staff, 'decide')) throw forbidden('Your role cannot decide cases.');
      if (c.state !== 'open')
        throw conflict(
          c.state === 'pending_check'
            ? 'A decision on this case is waiting for its check.'
            : `This case is ${c.state}.`,
          c.state,
        );
      if (c.assignee !== event.staff.id)
        throw forbidden('Only the person the case is assigned to decides it: claim it first.');
      const decision = validateDecision(c, event.decision);
      if (c.fourEyes) {
        const proposal: Proposal = {
          ...decision,
          by: event.staff.id,
          at: now.toISOString(),
          evidenceHash: c.evidenceHash,
        };
        return { patch: { state: 'pending_check', proposal }, effects: [] };
      }
      return {
        patch: {
          state: 'closed',
          closedAt: now,
          decision: { ...decision, by: event.staff.id, checkedBy: null, at: now.toISOString() },
        },
        effects: [{ type: 'finalize', decision }],
      };
    }
    case 'approve': {
      if (!can(event.staff, 'check')) throw forbidden('Only a checker approves a decision.');
      if (c.state !== 'pending_check' || !c.proposal)
        throw conflict('There is no decision waiting for a check on this case.', c.state);
      if (c.proposal.by === event.staff.id)
        throw forbidden('The person who made a decision cannot approve it (four eyes).');
      const { by, at: _at, evidenceHash: _e, ...decision } = c.proposal;
      return {
        patch: {
          state: 'closed',
          closedAt: now,
          proposal: null,
          decision: { ...decision, by, checkedBy: event.staff.id, at: now.toISOString() },
        },
        effects: [{ type: 'finalize', decision }],
      };
    }
    case 'send_back': {
      if (!can(event.staff, 'check')) throw forbidden('Only a checker sends a decision back.');
      if (c.state !== 'pending_check')
        throw conflict('There is no decision waiting for a check on this case.', c.state);
      if (c.proposal?.by === event.staff.id)
        throw forbidden('The person who made a decision cannot check it (four eyes).');
      return { patch: { state: 'open', proposal: null }, effects: [{ type: 'proposal_cleared', why: 'sent back' }] };
    }
    case 'evidence_changed': {
      if (c.evidenceHash === event.evidenceHash || !open(c)) return { patch: {}, effects: [] };
      if (c.state === 'pending_check')
        return {
          patch: { state: 'open', proposal: null, evidenceHash: event.evidenceHash },
          effects: [{ type: 'proposal_cleared', why: 'the evidence changed' }],
        };
      return { patch: { evidenceHash: event.evidenceHash }, effects: [] };
    }
    case 'cancel': {
      if (!open(c)) return { patch: {}, effects: [] };
      return { patch: { state: 'cancelled', closedAt: now, proposal: null }, effects: [] };
    }
  }
}

export interface ReviewSettings {
  /** Four-eyes per kind of case: certified verifications need it (PVID), the others are configurable. */
  fourEyes: { certified: boolean; liveness: boolean; kycReview: boolean };
  /** Share (0..1) of automated decisions also sent to a human, to check the automation. */
  sample: { refusals: number; acceptances: number };
  /** Time to decide, from the case's opening. */
  slaHours: { verification: number; kycReview: number };
}

export const DEFAULT_REVIEW_SETTINGS: ReviewSettings = {
  fourEyes: { certified: true, liveness: false, kycReview: false },
  sample: { refusals: 0, acceptances: 0 },
  slaHours: { verification: 24, kycReview: 72 },
};

/**
 * Whether an automated verdict goes to a human before the integrator hears of it. `draw` is a
 * uniform random number in [0, 1) (injected: the domain has no randomness).
 */
export function reviewReason(
  v: { method: 'liveness' | 'certified'; score: number; simulated: boolean },
  settings: ReviewSettings,
  draw: number,
): QueueReason | null {
  // A simulation stands for the whole process, human decision included.
  if (v.simulated) return null;
  // PVID requires an operator's validation of every file ("validation humaine systématique").
  if (v.method === 'certified') return 'certified';
  if (v.score === -1) return 'undecided';
  const share = v.score === 0 ? settings.sample.refusals : settings.sample.acceptances;
  return draw < share ? 'sampled' : null;
}

const share = (v: unknown, d: number) => (typeof v === 'number' && v >= 0 && v <= 1 ? v : d);
const hours = (v: unknown, d: number) => (typeof v === 'number' && v > 0 && v <= 24 * 90 ? v : d);
const flag = (v: unknown, d: boolean) => (typeof v === 'boolean' ? v : d);

/** A tenant's stored settings over the defaults; a value out of range takes the default. */
export function resolveReviewSettings(stored: Record<string, unknown> | null | undefined): ReviewSettings {
  const s = (stored ?? {}) as {
    fourEyes?: Record<string, unknown>;
    sample?: Record<string, unknown>;
    slaHours?: Record<string, unknown>;
  };
  const d = DEFAULT_REVIEW_SETTINGS;
  return {
    fourEyes: {
      // PVID requires a second person on every certified file: it cannot be switched off.
      certified: true,
      liveness: flag(s.fourEyes?.liveness, d.fourEyes.liveness),
      kycReview: flag(s.fourEyes?.kycReview, d.fourEyes.kycReview),
    },
    sample: {
      refusals: share(s.sample?.refusals, d.sample.refusals),
      acceptances: share(s.sample?.acceptances, d.sample.acceptances),
    },
    slaHours: {
      verification: hours(s.slaHours?.verification, d.slaHours.verification),
      kycReview: hours(s.slaHours?.kycReview, d.slaHours.kycReview),
    },
  };
}
