import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, normalize } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findByCaptureToken } from '../../app/capture/capture-session.ts';
import { abortCapture, completeCapture } from '../../app/capture/finish-capture.ts';
import { claimHandoff, createHandoff } from '../../app/capture/handoff.ts';
import { openCaptureSession } from '../../app/capture/open-capture-session.ts';
import {
  appendChunk,
  CHUNK_MAX_BYTES,
  getUploadStatus,
  PROBE_MAX_BYTES,
  probeConnection,
  startUpload,
} from '../../app/capture/resumable-upload.ts';
import { ACCEPTED_MEDIA_TYPES, uploadCaptureMedia } from '../../app/capture/upload-capture-media.ts';
import type { AppDeps } from '../../app/deps.ts';
import { effectiveState } from '../../domain/verification/transitions.ts';
import { isKycError, KycError } from '../../domain/errors.ts';
import { webAssets, type Asset } from '../../web/build.ts';
import { invalidJson } from '../error-handler.ts';
import { errorResponses } from '../schemas.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The capture pages load nothing from third parties; the logo may be the integrator's https URL.
const CSP =
  "default-src 'self'; img-src 'self' data: https:; media-src 'self' blob:; connect-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

function page(title: string, body: string, titleFr?: string, bodyFr?: string): string {
  // Static pages speak both languages: they render before (or without) the app's language switch.
  const fr = titleFr ? `<hr><section lang="fr"><h2>${esc(titleFr)}</h2>${bodyFr ?? ''}</section>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><link rel="stylesheet" href="/identification/assets/style.css"></head>
<body><main class="static"><h1>${esc(title)}</h1>${body}${fr}</main></body></html>`;
}

const GONE_SUPERSEDED = page(
  'This link was replaced',
  '<p>A newer identity verification was started for you. Please use the most recent link you received.</p>',
  'Ce lien a été remplacé',
  '<p>Une vérification d’identité plus récente a été lancée pour vous. Utilisez le dernier lien reçu.</p>',
);
const GONE_EXPIRED = page(
  'This link has expired',
  '<p>Please ask for a new identity verification link.</p>',
  'Ce lien a expiré',
  '<p>Demandez un nouveau lien de vérification d’identité.</p>',
);
const NOT_FOUND = page(
  'Link not recognised',
  '<p>Check that you opened the full link you received.</p>',
  'Lien non reconnu',
  '<p>Vérifiez que vous avez ouvert le lien complet reçu.</p>',
);
const SUBMITTED = page(
  'Verification already submitted',
  '<p>This identity verification has been completed. You can close this page.</p>',
  'Vérification déjà envoyée',
  '<p>Cette vérification d’identité est terminée. Vous pouvez fermer cette page.</p>',
);
const HANDOFF_GONE = page(
  'This phone link no longer works',
  '<p>Phone links work once and for a few minutes. On your computer, choose “Continue on my phone” again to get a new QR code.</p>',
  'Ce lien pour téléphone ne fonctionne plus',
  '<p>Un lien pour téléphone ne sert qu’une fois, pendant quelques minutes. Sur votre ordinateur, choisissez à nouveau « Continuer sur mon téléphone ».</p>',
);

function appShell(assets: { js: string; css: string }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">
<meta name="robots" content="noindex"><title>Identity verification</title>
<link rel="stylesheet" href="/identification/assets/style.css?v=${assets.css}"><script type="module" src="/identification/assets/app.js?v=${assets.js}"></script></head>
<body><main id="app" tabindex="-1"><p class="loading">Loading… / Chargement…</p></main>
<noscript><p>JavaScript is required for the identity verification. / JavaScript est nécessaire pour la vérification d’identité.</p></noscript></body></html>`;
}

function htmlHeaders(reply: FastifyReply) {
  return reply
    .header('Content-Type', 'text/html; charset=utf-8')
    .header('Cache-Control', 'no-store')
    .header('Referrer-Policy', 'no-referrer')
    .header('Content-Security-Policy', CSP)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Permissions-Policy', 'camera=(self), microphone=()');
}

/** Refuses before reading a byte when Content-Length already says too much. */
function refuseDeclaredOver(req: FastifyRequest, max: number, what = 'The body') {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max)
    throw new KycError('payload_too_large', `${what} may be at most ${max} bytes.`);
}

function sendAsset(req: FastifyRequest, reply: FastifyReply, a: Asset) {
  const versioned = typeof (req.query as Record<string, unknown>)?.v === 'string';
  reply
    .header('Content-Type', a.type)
    .header('ETag', `"${a.hash}"`)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Vary', 'Accept-Encoding')
    .header('Cache-Control', versioned ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (req.headers['if-none-match'] === `"${a.hash}"`) return reply.status(304).send();
  if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')))
    return reply.header('Content-Encoding', 'gzip').send(a.gzip);
  return reply.send(a.body);
}

// The face models of the in-browser feedback, served by kyclive itself: no CDN.
const HUMAN_DIR = new URL('../../../node_modules/@vladmandic/human/', import.meta.url).pathname;
const HUMAN_FILES: Record<string, string> = { 'human.esm.js': 'dist/human.esm.js' };
const MODEL_TYPES: Record<string, string> = { '.json': 'application/json', '.bin': 'application/octet-stream' };
const HUMAN_GZIP = new Map<string, Buffer>();

/**
 * The capture session API used by the hosted capture app, and the app itself. The opaque token
 * of the identification-url is the end user's only credential; no bearer token here.
 */
export default async function captureRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }) {
  // Media bodies are streamed to the blob store untouched: no parser may buffer them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch {
      done(invalidJson() as never, undefined);
    }
  });
  // Warm the bundle so the first end user does not wait for esbuild.
  webAssets().catch((err) => deps.log.error({ err }, 'capture app bundle failed'));

  const tokenParams = { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] };
  const uploadParams = {
    type: 'object',
    properties: { token: { type: 'string' }, uploadId: { type: 'string', format: 'uuid' } },
    required: ['token', 'uploadId'],
  };
  const UploadStatus = {
    type: 'object',
    additionalProperties: true,
    properties: {
      uploadId: { type: 'string' },
      step: { type: 'string' },
      size: { type: 'integer' },
      offset: { type: 'integer' },
      complete: { type: 'boolean' },
      chunkMaxBytes: { type: 'integer' },
    },
  };

  app.get(
    '/capture/v1/sessions/:token',
    {
      schema: {
        tags: ['capture'],
        summary: 'Capture session state (for the hosted app)',
        params: tokenParams,
        response: errorResponses(404),
      },
    },
    async (req, reply) => {
      reply.header('Cache-Control', 'no-store');
      return openCaptureSession(deps, (req.params as { token: string }).token);
    },
  );

  // What a desktop polls while a phone films: small, unlike the session with its branding (logos can be 128 KiB).
  app.get(
    '/capture/v1/sessions/:token/progress',
    {
      schema: {
        tags: ['capture'],
        summary: 'Capture progress: state, handoff status, uploaded steps, final redirect once over',
        params: tokenParams,
        response: {
          200: {
            type: 'object',
            properties: {
              state: { type: 'string' },
              handoff: { type: 'string' },
              uploadedSteps: { type: 'array', items: { type: 'string' } },
              redirectUrl: { type: ['string', 'null'] },
            },
          },
          ...errorResponses(404),
        },
      },
    },
    async (req, reply) => {
      reply.header('Cache-Control', 'no-store');
      const s = await openCaptureSession(deps, (req.params as { token: string }).token);
      return { state: s.state, handoff: s.handoff, uploadedSteps: s.uploadedSteps, redirectUrl: s.redirectUrl };
    },
  );

  app.put(
    '/capture/v1/sessions/:token/media/:step',
    {
      schema: {
        tags: ['capture'],
        summary: `Upload one capture step (raw body; ${ACCEPTED_MEDIA_TYPES.join(', ')})`,
        params: {
          type: 'object',
          properties: {
            token: { type: 'string' },
            step: { type: 'string', enum: ['document_front', 'document_back', 'document_tilt', 'face'] },
          },
        },
        response: {
          201: {
            type: 'object',
            properties: { step: { type: 'string' }, bytes: { type: 'integer' }, sha256: { type: 'string' } },
          },
          ...errorResponses(400, 404, 409, 410, 413, 415),
        },
      },
    },
    async (req, reply) => {
      const p = req.params as { token: string; step: string };
      refuseDeclaredOver(req, deps.config.uploads.maxBytes, 'A capture file');
      const r = await uploadCaptureMedia(deps, p.token, p.step, req.headers['content-type'], req.raw);
      return reply.status(201).send(r);
    },
  );

  app.post(
    '/capture/v1/sessions/:token/uploads',
    {
      schema: {
        tags: ['capture'],
        summary: 'Start a resumable upload of one step (JSON {step, contentType, size}); send chunks with PATCH',
        params: tokenParams,
        body: {
          type: 'object',
          properties: {
            step: { type: 'string', enum: ['document_front', 'document_back', 'document_tilt', 'face'] },
            contentType: { type: 'string', enum: ACCEPTED_MEDIA_TYPES },
            size: { type: 'integer' },
          },
          required: ['step', 'contentType', 'size'],
        },
        response: { 201: UploadStatus, ...errorResponses(400, 404, 409, 410, 413, 415, 429) },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await startUpload(deps, (req.params as { token: string }).token, req.body)),
  );

  app.get(
    '/capture/v1/sessions/:token/uploads/:uploadId',
    {
      schema: {
        tags: ['capture'],
        summary: 'Where a resumable upload stands: resume by sending from `offset`',
        params: uploadParams,
        response: { 200: UploadStatus, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      const p = req.params as { token: string; uploadId: string };
      reply.header('Cache-Control', 'no-store');
      return getUploadStatus(deps, p.token, p.uploadId);
    },
  );

  app.patch(
    '/capture/v1/sessions/:token/uploads/:uploadId',
    {
      schema: {
        tags: ['capture'],
        summary:
          'Append one chunk (raw body, at most chunkMaxBytes) at the Upload-Offset header; the last chunk assembles the media. A wrong offset answers 409 with details.offset.',
        params: uploadParams,
        headers: { type: 'object', properties: { 'upload-offset': { type: 'string' } }, required: ['upload-offset'] },
        response: { 200: UploadStatus, ...errorResponses(400, 404, 409, 410, 413, 415) },
      },
    },
    async (req) => {
      const p = req.params as { token: string; uploadId: string };
      refuseDeclaredOver(req, CHUNK_MAX_BYTES);
      return appendChunk(deps, p.token, p.uploadId, req.headers['upload-offset'], req.raw);
    },
  );

  app.post(
    '/capture/v1/sessions/:token/probe',
    {
      schema: {
        tags: ['capture'],
        summary: 'Upload-speed probe: send up to 1 MiB of anything; the browser times the request',
        params: tokenParams,
        response: {
          200: { type: 'object', properties: { bytes: { type: 'integer' } } },
          ...errorResponses(404, 409, 410, 413),
        },
      },
    },
    async (req, reply) => {
      refuseDeclaredOver(req, PROBE_MAX_BYTES);
      reply.header('Cache-Control', 'no-store');
      return probeConnection(deps, (req.params as { token: string }).token, req.raw);
    },
  );

  app.post(
    '/capture/v1/sessions/:token/handoff',
    {
      schema: {
        tags: ['capture'],
        summary: 'One-time link (and its QR code as SVG) to continue the capture on a phone',
        params: tokenParams,
        response: {
          201: {
            type: 'object',
            properties: { url: { type: 'string' }, expiresAt: { type: 'string' }, qrSvg: { type: 'string' } },
          },
          ...errorResponses(404, 409, 410, 429),
        },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .header('Cache-Control', 'no-store')
        .send(await createHandoff(deps, (req.params as { token: string }).token)),
  );

  app.post(
    '/capture/v1/sessions/:token/complete',
    {
      schema: {
        tags: ['capture'],
        summary: 'Finish the capture (→ processing, kycliveness.create)',
        params: tokenParams,
        response: errorResponses(400, 404, 409, 410),
      },
    },
    async (req) => completeCapture(deps, (req.params as { token: string }).token, req.body),
  );

  app.post(
    '/capture/v1/sessions/:token/abort',
    {
      schema: {
        tags: ['capture'],
        summary: 'Leave the capture with a documented reason (→ aborted, kycliveness.create)',
        params: tokenParams,
        response: errorResponses(400, 404, 409, 410),
      },
    },
    async (req) => abortCapture(deps, (req.params as { token: string }).token, req.body),
  );

  app.get('/identification/assets/app.js', { schema: { hide: true } as object }, async (req, reply) =>
    sendAsset(req, reply, (await webAssets())['app.js']),
  );
  app.get('/identification/assets/style.css', { schema: { hide: true } as object }, async (req, reply) =>
    sendAsset(req, reply, (await webAssets())['style.css']),
  );

  app.get('/identification/assets/human/*', { schema: { hide: true } as object }, async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    let rel: string | undefined = HUMAN_FILES[rest];
    if (!rel && /^models\/[a-z0-9-]+\.(json|bin)$/.test(rest)) rel = rest;
    const file = rel ? normalize(join(HUMAN_DIR, rel)) : '';
    if (!rel || !file.startsWith(HUMAN_DIR) || !existsSync(file)) throw new KycError('not_found', 'Unknown asset.');
    const type = rel.endsWith('.js') ? 'text/javascript; charset=utf-8' : MODEL_TYPES[rel.slice(rel.lastIndexOf('.'))];
    reply
      .header('Content-Type', type)
      .header('Cache-Control', 'public, max-age=86400')
      .header('Vary', 'Accept-Encoding');
    // The library is 2 MB of text (470 kB gzipped): worth compressing once for phones. Weights do not compress.
    if (!rel.endsWith('.bin') && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      let gz = HUMAN_GZIP.get(rel);
      if (!gz) {
        gz = gzipSync(readFileSync(file), { level: 9 });
        HUMAN_GZIP.set(rel, gz);
      }
      return reply.header('Content-Encoding', 'gzip').send(gz);
    }
    return reply.send(createReadStream(file));
  });

  // One-time phone link from the desktop's QR code: mints the phone's own token and moves on.
  app.get('/identification/h/:link', { schema: { hide: true } as object }, async (req, reply) => {
    try {
      const { phoneToken } = await claimHandoff(deps, (req.params as { link: string }).link);
      return reply
        .header('Cache-Control', 'no-store')
        .header('Referrer-Policy', 'no-referrer')
        .redirect(`/identification/${phoneToken}`, 303);
    } catch (e) {
      if (!isKycError(e)) throw e;
      htmlHeaders(reply);
      if (e.code === 'not_found') return reply.status(404).send(NOT_FOUND);
      const state = e.details?.state;
      if (state === 'superseded') return reply.status(410).send(GONE_SUPERSEDED);
      if (state === 'expired') return reply.status(410).send(GONE_EXPIRED);
      if (e.code === 'gone') return reply.status(410).send(HANDOFF_GONE);
      return reply.status(409).send(SUBMITTED);
    }
  });

  app.get('/identification/done', { schema: { hide: true } as object }, async (_req, reply) =>
    htmlHeaders(reply).send(
      page(
        'Thank you',
        '<p>Your identity verification has been submitted. You can close this page.</p>',
        'Merci',
        '<p>Votre vérification d’identité a été envoyée. Vous pouvez fermer cette page.</p>',
      ),
    ),
  );

  // The identification-url: the capture app, or a clear page when the link no longer works.
  app.get('/identification/:token', { schema: { hide: true } as object }, async (req, reply) => {
    htmlHeaders(reply);
    try {
      const v = await findByCaptureToken(deps.db, (req.params as { token: string }).token);
      const state = effectiveState(v, deps.clock.now());
      if (state === 'superseded') return reply.status(410).send(GONE_SUPERSEDED);
      if (state === 'expired') return reply.status(410).send(GONE_EXPIRED);
      if (state !== 'initiated') return reply.send(SUBMITTED);
      const a = await webAssets();
      return reply.send(appShell({ js: a['app.js'].hash, css: a['style.css'].hash }));
    } catch (e) {
      if (isKycError(e) && e.code === 'not_found') return reply.status(404).send(NOT_FOUND);
      throw e;
    }
  });
}
