/** Shared engine types: a check's outcome with its evidence. */

export type Measurement =
  | number
  | string
  | boolean
  | null
  | number[]
  | string[]
  | Record<string, unknown>
  | Record<string, unknown>[];

export interface CheckResult {
  /** Stable check name, e.g. 'face.presence'. */
  name: string;
  /** 'pass' | 'fail' (reason applies) | 'inconclusive' (needs a human) | 'skipped' (not applicable / not evaluated). */
  status: 'pass' | 'fail' | 'inconclusive' | 'skipped';
  /** Reason code raised when status is 'fail' (and, for capture checks, when inconclusive leads to a request to redo). */
  reason?: number;
  measurement: Measurement;
  threshold: Measurement;
  /** Indices of the sampled frames (per step) the check looked at. */
  frames?: number[];
  step?: string;
  note?: string;
  /** Set when the check threw instead of deciding: it is then inconclusive (fail closed). */
  error?: string;
}

export const check = (c: CheckResult): CheckResult => c;
