/**
 * The sandbox analyzer: the analysis port's implementation when no real engine is configured.
 * For a simulated verification it returns the outcome the integrator chose; for real captured
 * media it does not pretend: it answers score -1 (human review) and says why. Either way it
 * produces a real synthesis report marked SIMULATED, so the document import path is exercised.
 */
import { reasonByCode } from '../../domain/reasons.ts';
import { renderSynthesisReport } from '../../report/synthesis-report.ts';
import type { AnalysisInput, AnalysisResult, Analyzer } from '../ports.ts';

export interface SimulatedOutcome {
  score: 1 | 0 | -1;
  reasons: number[];
  comment: string;
}

export async function simulatedResult(
  input: AnalysisInput,
  outcome: SimulatedOutcome | null,
  now: Date,
  opts: { simulated?: boolean } = {},
): Promise<AnalysisResult> {
  const simulated = opts.simulated ?? true;
  const o: SimulatedOutcome = outcome ?? {
    score: -1,
    reasons: [],
    comment:
      'Media were not analysed: this kyclive runs the sandbox analyzer (set KYCLIVE_ANALYZER=engine); human review required.',
  };
  const report = await renderSynthesisReport({
    verificationId: input.verificationId,
    method: input.method,
    simulated,
    generatedAt: now,
    score: o.score,
    comment: o.comment,
    reasons: o.reasons.map((code) => ({ code, message: reasonByCode(code)?.message ?? '' })),
    inputs: input.media.map((m) => ({ step: m.step, sha256: m.sha256 })),
  });
  return {
    score: o.score,
    comment: o.comment,
    reasons: o.reasons,
    report: { ...report, simulated },
    evidence: { analyzer: 'sandbox', simulated: outcome !== null, reportSha256: report.sha256 },
  };
}

export function createSandboxAnalyzer(clock: { now(): Date }): Analyzer {
  return { name: 'sandbox', analyze: (input) => simulatedResult(input, null, clock.now()) };
}
