/**
 * Decision policy: a pure function from check results to the provider's verdict.
 *  - any failed check → score 0 with its reason code(s); capture problems (1xxx) and refusals
 *    (2xxx) are both listed and the comment keeps them apart;
 *  - otherwise any inconclusive check → score -1 (human review), no reason code;
 *  - otherwise score 1.
 * For the certified method with `certifiedFraudCode2399`, fraud codes are replaced by 2399.
 * 2403 (against their will) is never produced automatically. 1901 only when a check could not run
 * (and nothing failed): that check is undecided, the others still count.
 */
import type { VerificationMethod } from '../app/ports.ts';
import type { CheckResult } from './types.ts';
import { REASONS } from '../domain/reasons.ts';

/** Reason messages from the one catalogue (src/domain/reasons.ts). */
export const REASON_MESSAGES: Record<number, string> = Object.fromEntries(REASONS.map((r) => [r.code, r.message]));

/** Codes that denote fraud (replaced by 2399 for the certified method when configured). */
export const FRAUD_CODES = new Set([2201, 2202, 2301, 2302, 2303, 2304, 2305, 2306, 2307, 2402]);

export interface Verdict {
  score: 1 | 0 | -1;
  reasons: number[];
  comment: string;
  inconclusive: string[];
}

export function decide(
  checks: CheckResult[],
  opts: { method: VerificationMethod; certifiedFraudCode2399: boolean },
): Verdict {
  const failed = checks.filter((c) => c.status === 'fail' && c.reason !== undefined);
  let reasons = [...new Set(failed.map((c) => c.reason!))].filter((r) => r !== 2403);
  const inconclusive = checks.filter((c) => c.status === 'inconclusive').map((c) => c.name);
  if (reasons.length) {
    if (opts.method === 'certified' && opts.certifiedFraudCode2399 && reasons.some((r) => FRAUD_CODES.has(r))) {
      reasons = [...new Set(reasons.map((r) => (FRAUD_CODES.has(r) ? 2399 : r)))];
    }
    reasons.sort((a, b) => a - b);
    const capture = reasons.filter((r) => r < 2000);
    const refusal = reasons.filter((r) => r >= 2000);
    const parts: string[] = [];
    if (refusal.length) parts.push(`Refused: ${refusal.map((r) => `${r} ${REASON_MESSAGES[r]}`).join('; ')}`);
    if (capture.length)
      parts.push(
        `Capture problem${capture.length > 1 ? 's' : ''}: ${capture.map((r) => `${r} ${REASON_MESSAGES[r]}`).join('; ')}`,
      );
    return { score: 0, reasons, comment: parts.join('. ') + '.', inconclusive };
  }
  // A check that threw (assemble.ts) decides nothing: review, with 1901 so the integrator can tell
  // an internal error from a doubt about the person. Failures above win over it.
  const errored = checks.filter((c) => c.error !== undefined).map((c) => c.name);
  if (errored.length) {
    const undecided = inconclusive.filter((n) => !errored.includes(n));
    return {
      score: -1,
      reasons: [1901],
      comment: `Internal error, needs human review: could not run ${errored.join(', ')}${undecided.length ? `; could not decide ${undecided.join(', ')}` : ''}.`,
      inconclusive,
    };
  }
  if (inconclusive.length) {
    return {
      score: -1,
      reasons: [],
      comment: `Needs human review: could not decide ${inconclusive.join(', ')}.`,
      inconclusive,
    };
  }
  return { score: 1, reasons: [], comment: 'Identity verified: all automated checks passed.', inconclusive };
}
