/**
 * Live-verification states, stored as these exact strings (a contract: never rename or reuse
 * one; add a new state and migrate). They follow the provider's kyc-status values so that
 * `kyc-status` in webhooks is the state itself. Diagram: states.mmd beside this file.
 */
export const VERIFICATION_STATES = [
  'initiated',
  'processing',
  'processed',
  'aborted',
  'expired',
  'superseded',
] as const;
export type VerificationState = (typeof VERIFICATION_STATES)[number];

/** States in which nothing can happen any more. */
export const TERMINAL_STATES: ReadonlySet<VerificationState> = new Set([
  'processed',
  'aborted',
  'expired',
  'superseded',
]);

/** A newer POST kycliveness supersedes the user's verification while it is in one of these. */
export const SUPERSEDABLE_STATES: ReadonlySet<VerificationState> = new Set(['initiated', 'processing']);
