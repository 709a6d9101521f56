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
import { type AssetResponse, bundleAsset, humanAsset } from '../../web/assets.ts';
import { webAssets } from '../../web/build.ts';
import { appShell, PAGE_HEADERS, STATIC_PAGES } from '../../web/pages.ts';
import { invalidJson } from '../error-handler.ts';
import { errorResponses } from '../schemas.ts';

/** Refuses before reading a byte when Content-Length already says too much. */
function refuseDeclaredOver(req: FastifyRequest, max: number, what = 'The body') {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max)
    throw new KycError('payload_too_large', `${what} may be at most ${max} bytes.`);
}

function sendAsset(reply: FastifyReply, r: AssetResponse) {
  return reply.status(r.status).headers(r.headers).send(r.body);
}

const assetRequest = (req: FastifyRequest) => ({
  versioned: typeof (req.query as Record<string, unknown>)?.v === 'string',
  ifNoneMatch: req.headers['if-none-match'],
  acceptEncoding: req.headers['accept-encoding'],
});

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
    sendAsset(reply, await bundleAsset('app.js', assetRequest(req))),
  );
  app.get('/identification/assets/style.css', { schema: { hide: true } as object }, async (req, reply) =>
    sendAsset(reply, await bundleAsset('style.css', assetRequest(req))),
  );

  // The face library and models of the in-browser feedback, served by kyclive itself: no CDN.
  app.get('/identification/assets/human/*', { schema: { hide: true } as object }, async (req, reply) => {
    const r = humanAsset((req.params as { '*': string })['*'], req.headers['accept-encoding']);
    if (!r) throw new KycError('not_found', 'Unknown asset.');
    return sendAsset(reply, r);
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
      reply.headers(PAGE_HEADERS);
      if (e.code === 'not_found') return reply.status(404).send(STATIC_PAGES.notFound);
      const state = e.details?.state;
      if (state === 'superseded') return reply.status(410).send(STATIC_PAGES.superseded);
      if (state === 'expired') return reply.status(410).send(STATIC_PAGES.expired);
      if (e.code === 'gone') return reply.status(410).send(STATIC_PAGES.handoffGone);
      return reply.status(409).send(STATIC_PAGES.submitted);
    }
  });

  app.get('/identification/done', { schema: { hide: true } as object }, async (_req, reply) =>
    reply.headers(PAGE_HEADERS).send(STATIC_PAGES.done),
  );

  // The identification-url: the capture app, or a clear page when the link no longer works.
  app.get('/identification/:token', { schema: { hide: true } as object }, async (req, reply) => {
    reply.headers(PAGE_HEADERS);
    try {
      const v = await findByCaptureToken(deps.db, (req.params as { token: string }).token);
      const state = effectiveState(v, deps.clock.now());
      if (state === 'superseded') return reply.status(410).send(STATIC_PAGES.superseded);
      if (state === 'expired') return reply.status(410).send(STATIC_PAGES.expired);
      if (state !== 'initiated') return reply.send(STATIC_PAGES.submitted);
      return reply.send(appShell(await webAssets()));
    } catch (e) {
      if (isKycError(e) && e.code === 'not_found') return reply.status(404).send(STATIC_PAGES.notFound);
      throw e;
    }
  });
}
