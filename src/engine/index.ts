/**
 * Public API of the analysis engine (a library, no HTTP): `createEngine(config)` returns an
 * `Analyzer` (src/app/ports.ts) that decides a capture session offline on CPU.
 */
export { createEngine, ENGINE_NAME, ENGINE_VERSION, type Engine } from './engine.ts';
export {
  DEFAULT_ENGINE_CONFIG,
  DEFAULT_THRESHOLDS,
  resolveEngineConfig,
  type EngineConfig,
  type EngineConfigInput,
  type EngineThresholds,
} from './config.ts';
export { decide, REASON_MESSAGES, FRAUD_CODES, type Verdict } from './policy.ts';
export type { CheckResult } from './types.ts';
export { parseMrz, checkDigit, type MrzFields, type MrzFormat } from './mrz/parse.ts';
export { compareIdentity } from './identity.ts';
