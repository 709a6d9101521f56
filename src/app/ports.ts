/**
 * The ports: the only ways app/ use cases reach the outside world. Adapters live in
 * src/storage (db, blob), src/webhooks (delivery), src/engine and src/worker (analysis).
 * Every adapter of a port runs through the same contract suite under test/contracts/.
 */
import type { Readable } from 'node:stream';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

/** Anything that runs SQL: the database itself or an open transaction. Parameters are $1, $2… */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  /** Runs SQL text that may hold several statements and takes no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** 'pglite' (embedded, single connection) or 'postgres'. Only src/storage may branch on it. */
  readonly kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

export interface PutOptions {
  /** Refuse (and store nothing) when the body is larger than this many bytes. */
  maxBytes?: number;
  contentType?: string;
}

/**
 * Opaque blob storage. Keys are ours (no user input in them). Implementations: disk, S3.
 * Encryption at rest is a decorator over any implementation (src/storage/blob/encrypted.ts),
 * so the plain adapters never see plaintext-only concerns.
 */
export interface BlobStore {
  /** Stores body under key; resolves with the number of bytes of the body (plaintext for the encrypted decorator). */
  put(key: string, body: Buffer | Readable, opts?: PutOptions): Promise<{ bytes: number }>;
  /** Streams the blob; rejects with KycError('not_found') when absent. */
  get(key: string): Promise<Readable>;
  /** Removes the blob; no error when absent. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export type VerificationMethod = 'liveness' | 'certified';

export type ChallengeKind = 'turn_left' | 'turn_right' | 'blink' | 'smile' | 'look_up' | 'look_down';

export interface Challenge {
  kind: ChallengeKind;
  /** Seconds the user has to complete it once shown. */
  windowSeconds: number;
}

/** What the browser reported about the capture: its schema is in the domain. */
export type { CaptureMetadata } from '../domain/capture-metadata.ts';
import type { CaptureMetadata } from '../domain/capture-metadata.ts';

export interface AnalysisMedia {
  /** Local file path, readable by ffmpeg; decrypted into a private temp dir by the worker. */
  path: string;
  contentType: string;
  /** Which capture step produced it. */
  step: 'document_front' | 'document_back' | 'document_tilt' | 'face';
  sha256: string;
}

export interface ExpectedIdentity {
  firstname: string;
  lastname: string;
  /** YYYY-MM-DD */
  birthday: string;
}

export interface AnalysisInput {
  verificationId: string;
  method: VerificationMethod;
  media: AnalysisMedia[];
  challenges: Challenge[];
  metadata: CaptureMetadata;
  /** Absent: the identity check is skipped. */
  expected?: ExpectedIdentity;
  documentType?: 'id_card' | 'passport' | 'residence_permit';
  documentCountry?: string;
  /** The client the analysis works for: analyzers share their processes fairly between tenants. */
  tenant?: string;
  signal?: AbortSignal;
}

export interface ExtractedIdentity {
  firstname?: string;
  lastname?: string;
  birthday?: string;
  documentNumber?: string;
  documentType?: string;
  issuingCountry?: string;
  nationality?: string;
  expiryDate?: string;
  sex?: string;
}

export interface AnalysisResult {
  /** 1 valid, 0 refused, -1 undecidable (human review). */
  score: 1 | 0 | -1;
  comment: string;
  /** Reason codes from the catalogue (src/domain/reasons.ts). */
  reasons: number[];
  extracted?: ExtractedIdentity;
  /** Synthesis report (documentTypeId 26 liveness / 34 certified), a PDF. */
  report: { pdf: Buffer; sha256: string; simulated: boolean };
  /** Key frames to keep as the user's document captures (JPEG). */
  keyFrames?: { step: 'document_front' | 'document_back' | 'face'; jpeg: Buffer }[];
  /** Per-check measurements, thresholds, frames; model versions; timings. No personal data. */
  evidence: Record<string, unknown>;
  /**
   * The face's descriptor (dlib ResNet, 128 floats), for the back office's repeat-fraud search.
   * Biometric data: stored sealed, never in the evidence or a log.
   */
  faceDescriptor?: number[];
}

export interface Analyzer {
  readonly name: string;
  /** How many sessions it usefully analyses at once (the job worker runs that many); default 1. */
  readonly concurrency?: number;
  analyze(input: AnalysisInput): Promise<AnalysisResult>;
  close?(): Promise<void>;
}
