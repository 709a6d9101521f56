/**
 * The analysis job: one per verification that reached `processing`. Runs the analyzer on the
 * capture media and records the verdict (run-analysis.ts); when every attempt failed, the
 * integrator still gets its kycliveness.update (score -1, reason 1901).
 */
import { Type } from '@sinclair/typebox';
import { defineJob } from '../jobs.ts';
import { recordAnalysisFailure, runAnalysis } from './run-analysis.ts';

export const analysisJob = defineJob({
  kind: 'analysis.run',
  payload: Type.Object(
    { verificationId: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }) },
    { additionalProperties: false },
  ),
  timeoutMs: 10 * 60_000,
  maxAttempts: 5,
  retry: { baseMs: 2_000, capMs: 5 * 60_000 },
  // Arrow functions: run-analysis.ts reaches this module again through commit-transition.ts.
  run: async (ctx, p, signal) => runAnalysis(ctx.deps, await ctx.analyzer(), p.verificationId, signal),
  onGiveUp: (ctx, p) => recordAnalysisFailure(ctx.deps, p.verificationId),
});
