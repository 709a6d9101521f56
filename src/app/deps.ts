/**
 * What every use case may use. Built once by the composition root (src/main/compose.ts);
 * tests build their own with a real database and an injected clock.
 */
import type { Config } from '../config/config.ts';
import type { BlobStore, Clock, Db } from './ports.ts';

export interface Wakeups {
  /** Something was queued: wake the job runner now instead of at its next poll. */
  jobs(): void;
  /** Webhook deliveries were queued: wake the dispatcher. */
  webhooks(): void;
}

/** Structured logger (pino's shape). Never pass personal data to it. */
export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLog: Log = { info() {}, warn() {}, error() {} };

export interface AppDeps {
  db: Db;
  blobs: BlobStore;
  clock: Clock;
  config: Config;
  wake: Wakeups;
  log: Log;
}

export const noWakeups: Wakeups = { jobs() {}, webhooks() {} };
