/**
 * `kyclive serve`: the whole service in one process (API, worker, webhook dispatcher) with the
 * embedded defaults, or the production adapters when DATABASE_URL / BLOB_STORE are set.
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { loadConfig, type Config } from '../config/config.ts';
import { createRuntime, ensureDemoClient } from './compose.ts';

export async function serve(): Promise<void> {
  const config = loadConfig();
  // JSON logs, one line per request (app.ts); request bodies and headers are never logged
  // (personal data, credentials).
  const logger = {
    level: config.logLevel,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], remove: true },
    serializers: {
      req: (r: { id: string; method: string; url: string }) => ({
        id: r.id,
        method: r.method,
        url: r.url
          .replace(/\/(identification|capture\/v1\/sessions|files\/documents)\/[^/?]+/, '/$1/***')
          .replace(/([?&]accessTag=)[^&]*/, '$1***'),
      }),
    },
  };
  const runtime = await createRuntime(config, { logger });
  const demo = await ensureDemoClient(config, runtime.deps.db);
  const log = pino({ level: config.logLevel });
  // The handlers are in place before the server listens: it answers requests from then on, while
  // the background start below still waits for the analysis engine's processes (seconds), and a
  // SIGTERM in that window used to kill the process with its requests. Shutdown lets the start
  // finish first, so that close() stops everything it started.
  let background: Promise<void> = Promise.resolve();
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests, jobs and webhook deliveries');
    const hard = setTimeout(() => {
      log.error({}, 'shutdown timed out');
      process.exit(1);
    }, 60_000);
    hard.unref();
    background
      .catch(() => undefined)
      .then(() => runtime.close())
      .then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await runtime.app.listen({ port: config.port, host: config.host });
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  // PORT=0 asks for any free port: show the one we got.
  const port = (runtime.app.server.address() as AddressInfo).port;
  if (config.port === 0) config.publicBaseUrl = `http://${shownHost}:${port}`;
  background = runtime.startBackground();
  await background;
  if (closing) return;
  console.log(`kyclive listening on http://${shownHost}:${port}`);
  console.log(`API docs: http://${shownHost}:${port}/docs (OpenAPI: /openapi.json)`);
  console.log(
    `database: ${config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}/db`}; blobs: ${config.blobStore === 'disk' ? `${config.dataDir}/blobs` : config.blobStore} (AES-256-GCM); analyzer: ${analyzerLabel(config)}; sandbox: ${config.sandbox ? 'on' : 'off'}`,
  );
  if (demo) console.log(`demo client: client_id=${demo.clientId} client_secret=${demo.clientSecret}`);
}

/** `kyclive worker`: jobs, webhook deliveries and expiry, no HTTP. Same graceful SIGTERM. */
export async function runWorker(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel });
  const runtime = await createRuntime(config, { log: logger });
  await runtime.startBackground({ forceWorker: true });
  console.log(`kyclive worker started (analyzer: ${analyzerLabel(config)})`);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'worker shutting down: finishing running jobs and deliveries');
    runtime.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** 'engine (2 processes)', 'engine (in process)' or 'sandbox', for the start-up lines. */
function analyzerLabel(config: Config): string {
  if (config.worker.analyzer !== 'engine') return config.worker.analyzer;
  const n = config.worker.engineProcesses;
  return n > 0 ? `engine (${n} process${n > 1 ? 'es' : ''})` : 'engine (in process)';
}
