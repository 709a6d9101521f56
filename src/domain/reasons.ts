/**
 * The 29 reason codes of the live verification doc page (treezor-live-verification.txt,
 * "Reason codes"), as typed data. `amlSensitive` marks the codes whose disclosure could help a
 * fraudster or tip off a suspect (AML/CFT): every fraud/identity code (23xx, 24xx). Those are
 * sent to the integrator only and never shown to the end user; the capture app and redirect
 * parameters never carry them. Capture-quality (1xxx) and document-acceptability (21xx, 22xx)
 * codes are safe to explain so the user can retry properly.
 */
export type ReasonCategory = 'capture' | 'internal' | 'document' | 'fraud' | 'identity';

export interface Reason {
  code: number;
  message: string;
  category: ReasonCategory;
  amlSensitive: boolean;
}

const r = (code: number, message: string, category: ReasonCategory, amlSensitive = false): Reason => ({
  code,
  message,
  category,
  amlSensitive,
});

export const REASONS: readonly Reason[] = [
  r(1201, 'Applicant did not have a sufficient connexion', 'capture'),
  r(
    1301,
    'Applicant’s document video is too blurry (mostly due to too much movement but if this error persists the camera quality might be at fault)',
    'capture',
  ),
  r(1302, 'Applicant has not presented the front of the document', 'capture'),
  r(1303, 'Applicant has not presented the back of the document', 'capture'),
  r(1304, 'Applicant hides part of the document', 'capture'),
  r(1305, 'Applicant did not present a dynamic view of the document', 'capture'),
  r(
    1310,
    'Applicant’s video of their face is too blurry (mostly due to too much movement but if this error persists the camera quality might be at fault)',
    'capture',
  ),
  r(1311, 'Applicant has not presented a face', 'capture'),
  r(1312, 'Applicant did not show the full front view of their face', 'capture'),
  r(1313, 'Applicant did not move to prove the liveness', 'capture'),
  r(1320, 'Applicant performed their id verification under poor lighting conditions', 'capture'),
  r(1901, 'Internal non-categorizable error', 'internal'),
  r(1911, 'The received videos cannot be played', 'capture'),
  r(2101, 'Applicant presented an expired document', 'document'),
  r(2102, 'Applicant presented a document which is not accepted', 'document'),
  r(2103, 'Applicant has submitted a damaged document', 'document'),
  r(2201, 'Applicant presented a photocopy of the document', 'document'),
  r(2202, 'Applicant presented the document on a screen', 'document'),
  r(2301, 'Applicant has submitted a counterfeit or falsification', 'fraud', true),
  r(2302, 'Applicant presented a document declared as stolen or lost', 'fraud', true),
  r(2303, 'Applicant presented the front and back of two different documents', 'fraud', true),
  r(2304, 'Applicant is not the rightful owner of the document', 'fraud', true),
  r(2305, "Applicant presented another person's face", 'fraud', true),
  r(2306, 'Applicant has altered his/her appearance', 'fraud', true),
  r(2307, 'Applicant has digitally altered the videos', 'fraud', true),
  r(2399, 'Generic code when a fraud has been detected within a certified identity verification', 'fraud', true),
  r(2401, 'Applicant’s identity does not match with the expected one', 'identity', true),
  r(2402, 'Applicant used a device that has been technically altered', 'fraud', true),
  r(2403, 'Applicant seems to have performed the check against his will', 'fraud', true),
];

const BY_CODE = new Map(REASONS.map((x) => [x.code, x]));

export function reasonByCode(code: number): Reason | undefined {
  return BY_CODE.get(code);
}

export function isReasonCode(code: unknown): code is number {
  return typeof code === 'number' && BY_CODE.has(code);
}

/** The reasons an end user may be shown (capture app, support pages): never AML-sensitive ones. */
export function reasonsForEndUser(codes: readonly number[]): Reason[] {
  return codes.map((c) => BY_CODE.get(c)).filter((x): x is Reason => !!x && !x.amlSensitive);
}

/** Shape used in kycliveness.update webhooks and GET kycliveness. */
export function toWireReasons(codes: readonly number[]): { 'reason-code': number; 'reason-message': string }[] {
  return codes.map((c) => ({ 'reason-code': c, 'reason-message': BY_CODE.get(c)?.message ?? 'Unknown reason' }));
}
