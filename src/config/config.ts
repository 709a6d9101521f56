/**
 * The one typed configuration schema. This is the only module that reads process.env.
 * Every option has a default that is safe for the embedded mode (`npm start`); production
 * sets DATABASE_URL, BLOB_STORE and the secrets. Nothing branches on NODE_ENV.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';

export interface Config {
  /** HTTP port. Env PORT. */
  port: number;
  /** Bind address. Env HOST. */
  host: string;
  /** Public base URL used in identification-url and download URLs. Env PUBLIC_BASE_URL; default http://localhost:PORT. */
  publicBaseUrl: string;
  /** Embedded data folder: PGlite database, disk blobs, generated dev secrets. Env KYCLIVE_DATA_DIR. */
  dataDir: string;
  /** postgres://… for PostgreSQL; absent → PGlite in dataDir/db. Env DATABASE_URL. */
  databaseUrl?: string;
  /** 'disk' (dataDir/blobs) or s3://bucket[/prefix]. Env BLOB_STORE. */
  blobStore: string;
  s3: { endpoint?: string; region: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean };
  /** Base64 32-byte key for AES-256-GCM blob encryption. Env BLOB_ENCRYPTION_KEY; embedded: generated once into dataDir. */
  blobEncryptionKey: Buffer;
  /** Older keys still readable after rotation, comma-separated base64 (an optional "label:" prefix is ignored). Env BLOB_ENCRYPTION_OLD_KEYS. */
  blobEncryptionOldKeys?: string;
  /** HMAC secret for access tokens and presigned URLs. Env KYCLIVE_SECRET; embedded: generated once into dataDir. */
  secret: Buffer;
  /** Sandbox (/simulation/*) endpoints. Env KYCLIVE_SANDBOX=1|0; default on in embedded mode, off with DATABASE_URL. */
  sandbox: boolean;
  /** Default redirect after capture when neither request nor client sets one. Env DEFAULT_REDIRECT_URL. */
  defaultRedirectUrl: string;
  /** Lifetime of an unused identification-url. Env VERIFICATION_TTL_SECONDS; default 7 days. */
  verificationTtlSeconds: number;
  /** Raw capture media (videos) of a finished verification are deleted after this many days. Env MEDIA_RETENTION_DAYS. */
  mediaRetentionDays: number;
  /** Presigned document download lifetime (Treezor: 30 s). */
  downloadUrlTtlSeconds: number;
  /** Access token lifetime (Treezor: 3600). */
  tokenTtlSeconds: number;
  webhooks: {
    /** Allow receivers on private networks (10/8, 192.168/16 …). Env WEBHOOK_ALLOW_PRIVATE. */
    allowPrivate: boolean;
    /** Allow receivers on loopback; default on in embedded mode. Env WEBHOOK_ALLOW_LOOPBACK. */
    allowLoopback: boolean;
    timeoutMs: number;
    /** Parallel deliveries per process. */
    concurrency: number;
    /** Of those, at most this many to one receiver, and to one tenant's receivers (fairness). */
    receiverSlots: number;
    tenantSlots: number;
    /**
     * How often an idle dispatcher looks for due deliveries. Events written by the same process wake
     * it at once; this bounds the delay for events written by another process (API and worker split).
     */
    pollIntervalMs: number;
  };
  uploads: {
    /** Per media file. Env MAX_UPLOAD_BYTES; default 200 MiB. */
    maxBytes: number;
    /** What one capture link may hold at once: its media and its unfinished uploads. Env MAX_VERIFICATION_BYTES; default 512 MiB. */
    maxBytesPerVerification: number;
    /** What all of a tenant's open capture links may hold at once. Env MAX_TENANT_CAPTURE_BYTES; default 10 GiB. */
    maxBytesPerTenant: number;
  };
  worker: {
    /** Run the job worker inside the server process (embedded default). Env KYCLIVE_WORKER=1|0. */
    inProcess: boolean;
    /** How long a job lease lasts before another worker may take it over. */
    leaseSeconds: number;
    pollIntervalMs: number;
    /**
     * 'engine' (real models on the uploaded media, src/engine) or 'sandbox' (never analyses media:
     * real captures get score -1, human review). Simulated verifications use the sandbox either way.
     * Env KYCLIVE_ANALYZER.
     */
    analyzer: 'sandbox' | 'engine';
    /**
     * Engine processes (analyzer 'engine'): the models are single-threaded, so each process uses one
     * core; a session's face and document halves run in two of them at once, and the worker runs as
     * many sessions as there are processes. 0 runs the engine inside this process (no children).
     * Env ENGINE_PROCESSES; default: the number of cores, at most 2 (each process needs ~550 MB).
     */
    engineProcesses: number;
  };
  /** Create a demo client at first start and print its credentials. Env KYCLIVE_DEMO_CLIENT=1|0. */
  demoClient: boolean;
  /** Log level. Env LOG_LEVEL. */
  logLevel: string;
}

type Env = Record<string, string | undefined>;

function bool(v: string | undefined, dflt: boolean): boolean {
  if (v === undefined || v === '') return dflt;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new Error(`invalid boolean: ${v}`);
}

function int(name: string, v: string | undefined, dflt: number, min = 0): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${v}`);
  return n;
}

/** A secret from env, or — embedded mode only — generated once and kept in dataDir so restarts keep working. */
function secretFrom(
  envValue: string | undefined,
  dataDir: string,
  file: string,
  name: string,
  embedded: boolean,
): Buffer {
  if (envValue) {
    const b = Buffer.from(envValue, 'base64');
    if (b.length < 32) throw new Error(`${name} must be base64 of at least 32 bytes`);
    return b.subarray(0, 32);
  }
  if (!embedded) throw new Error(`${name} is required when DATABASE_URL is set (production mode)`);
  const p = join(dataDir, 'secrets', file);
  if (existsSync(p)) return Buffer.from(readFileSync(p, 'utf8').trim(), 'base64');
  mkdirSync(join(dataDir, 'secrets'), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(p, key.toString('base64'), { mode: 0o600 });
  return key;
}

export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const port = int('PORT', env.PORT, 8080);
  const host = env.HOST || '0.0.0.0';
  const dataDir = resolve(env.KYCLIVE_DATA_DIR || './data');
  const databaseUrl = env.DATABASE_URL || undefined;
  const embedded = !databaseUrl;
  const analyzer = (env.KYCLIVE_ANALYZER || 'engine') as Config['worker']['analyzer'];
  if (analyzer !== 'sandbox' && analyzer !== 'engine') throw new Error(`KYCLIVE_ANALYZER must be sandbox or engine`);
  const cfg: Config = {
    port,
    host,
    publicBaseUrl: (env.PUBLIC_BASE_URL || `http://localhost:${port}`).replace(/\/+$/, ''),
    dataDir,
    databaseUrl,
    blobStore: env.BLOB_STORE || 'disk',
    s3: {
      endpoint: env.S3_ENDPOINT || undefined,
      region: env.S3_REGION || env.AWS_REGION || 'us-east-1',
      accessKeyId: env.S3_ACCESS_KEY_ID || env.AWS_ACCESS_KEY_ID || undefined,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY || env.AWS_SECRET_ACCESS_KEY || undefined,
      forcePathStyle: bool(env.S3_FORCE_PATH_STYLE, !!env.S3_ENDPOINT),
    },
    blobEncryptionKey:
      overrides.blobEncryptionKey ??
      secretFrom(env.BLOB_ENCRYPTION_KEY, dataDir, 'blob.key', 'BLOB_ENCRYPTION_KEY', embedded),
    blobEncryptionOldKeys: env.BLOB_ENCRYPTION_OLD_KEYS || undefined,
    secret: overrides.secret ?? secretFrom(env.KYCLIVE_SECRET, dataDir, 'hmac.key', 'KYCLIVE_SECRET', embedded),
    sandbox: bool(env.KYCLIVE_SANDBOX, embedded),
    defaultRedirectUrl: env.DEFAULT_REDIRECT_URL || `http://localhost:${port}/identification/done`,
    verificationTtlSeconds: int('VERIFICATION_TTL_SECONDS', env.VERIFICATION_TTL_SECONDS, 7 * 24 * 3600, 60),
    mediaRetentionDays: int('MEDIA_RETENTION_DAYS', env.MEDIA_RETENTION_DAYS, 30, 0),
    downloadUrlTtlSeconds: 30,
    tokenTtlSeconds: 3600,
    webhooks: {
      allowPrivate: bool(env.WEBHOOK_ALLOW_PRIVATE, false),
      allowLoopback: bool(env.WEBHOOK_ALLOW_LOOPBACK, embedded),
      timeoutMs: int('WEBHOOK_TIMEOUT_MS', env.WEBHOOK_TIMEOUT_MS, 10_000, 100),
      concurrency: int('WEBHOOK_CONCURRENCY', env.WEBHOOK_CONCURRENCY, 64, 1),
      receiverSlots: int('WEBHOOK_RECEIVER_SLOTS', env.WEBHOOK_RECEIVER_SLOTS, 8, 1),
      tenantSlots: int('WEBHOOK_TENANT_SLOTS', env.WEBHOOK_TENANT_SLOTS, 16, 1),
      pollIntervalMs: int('WEBHOOK_POLL_MS', env.WEBHOOK_POLL_MS, 250, 10),
    },
    uploads: {
      maxBytes: int('MAX_UPLOAD_BYTES', env.MAX_UPLOAD_BYTES, 200 * 1024 * 1024, 1024),
      maxBytesPerVerification: int('MAX_VERIFICATION_BYTES', env.MAX_VERIFICATION_BYTES, 512 * 1024 * 1024, 1024),
      maxBytesPerTenant: int('MAX_TENANT_CAPTURE_BYTES', env.MAX_TENANT_CAPTURE_BYTES, 10 * 1024 * 1024 * 1024, 1024),
    },
    worker: {
      inProcess: bool(env.KYCLIVE_WORKER, true),
      leaseSeconds: int('JOB_LEASE_SECONDS', env.JOB_LEASE_SECONDS, 300, 5),
      pollIntervalMs: int('JOB_POLL_MS', env.JOB_POLL_MS, 1000, 10),
      analyzer,
      engineProcesses: int('ENGINE_PROCESSES', env.ENGINE_PROCESSES, Math.min(2, availableParallelism()), 0),
    },
    demoClient: bool(env.KYCLIVE_DEMO_CLIENT, embedded),
    logLevel: env.LOG_LEVEL || 'info',
  };
  return { ...cfg, ...overrides };
}
