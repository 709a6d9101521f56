import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CAPTURE_STEPS, DOCUMENT_TYPES, findByCaptureToken } from '../../app/capture/capture-session.ts';
import { abortCapture, completeCapture } from '../../app/capture/finish-capture.ts';
import { claimHandoff, createHandoff } from '../../app/capture/handoff.ts';
import { openCaptureSession } from '../../app/capture/open-capture-session.ts';
import {
  appendChunk,
  CHUNK_MAX_BYTES,
  getUploadStatus,
  PROBE_MAX_BYTES,
  probeConnection,
  putCaptureMedia,
  startUpload,
} from '../../app/capture/resumable-upload.ts';
import { ACCEPTED_MEDIA_TYPES } from '../../app/capture/upload-capture-media.ts';
import type { AppDeps } from '../../app/deps.ts';
import { CaptureMetadataSchema } from '../../domain/capture-metadata.ts';
import { effectiveState } from '../../domain/verification/transitions.ts';
import { isKycError, KycError } from '../../domain/errors.ts';
import { type AssetResponse, bundleAsset, humanAsset } from '../../web/assets.ts';
import { webAssets } from '../../web/build.ts';
import { appShell, PAGE_HEADERS, STATIC_PAGES } from '../../web/pages.ts';
import { invalidJson } from '../error-handler.ts';
import { errorResponses, optionalBody } from '../schemas.ts';
import { EXPECTED } from '../validation.ts';

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

// A malformed token or upload id answers 404 like an unknown one: both are checked where they are looked up.
const TokenParams = Type.Object({ token: Type.String() });
const LinkParams = Type.Object({ link: Type.String() });
const AssetParams = Type.Object({ '*': Type.String() });
const UploadParams = Type.Object({
  token: Type.String(),
  uploadId: Type.String({ description: 'The uuid that started the upload.' }),
});
const Step = Type.Union(CAPTURE_STEPS.map((s) => Type.Literal(s)));
const UploadStatus = Type.Object(
  {
    uploadId: Type.Optional(Type.String()),
    step: Type.Optional(Type.String()),
    size: Type.Optional(Type.Integer()),
    offset: Type.Optional(Type.Integer()),
    complete: Type.Optional(Type.Boolean()),
    chunkMaxBytes: Type.Optional(Type.Integer()),
  },
  { additionalProperties: true },
);
const StartUploadBody = Type.Object(
  {
    step: Step,
    // Parameters (;codecs=…) are allowed; an unaccepted type answers 415, from the app.
    contentType: Type.String({ maxLength: 255, description: ACCEPTED_MEDIA_TYPES.join(', ') }),
    size: Type.Integer({ minimum: 1, [EXPECTED]: 'a positive integer (bytes)' }),
  },
  { additionalProperties: false },
);
const metadata = Type.Optional(Type.Union([CaptureMetadataSchema, Type.Null()]));
const CompleteBody = optionalBody(
  Type.Object(
    {
      documentType: Type.Optional(Type.Union(DOCUMENT_TYPES.map((t) => Type.Literal(t)))),
      documentCountry: Type.Optional(
        Type.String({ pattern: '^[A-Z]{2,3}$', [EXPECTED]: 'an ISO 3166 alpha-2 or alpha-3 code' }),
      ),
      metadata,
    },
    { additionalProperties: false },
  ),
);
/** returnReason and errorType: one of the documented aborted rows (checked by the state machine). */
const AbortBody = Type.Object(
  { returnReason: Type.String({ maxLength: 64 }), errorType: Type.String({ maxLength: 64 }), metadata },
  { additionalProperties: false },
);
const RedirectResponse = Type.Object({ redirectUrl: Type.Optional(Type.String()) });

/**
 * The capture session API used by the hosted capture app, and the app itself. The opaque token
 * of the identification-url is the end user's only credential; no bearer token here.
 */
const captureRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
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

  app.get(
    '/capture/v1/sessions/:token',
    {
      schema: {
        tags: ['capture'],
        summary: 'Capture session state (for the hosted app)',
        params: TokenParams,
        response: errorResponses(404),
      },
    },
    async (req, reply) => {
      reply.header('Cache-Control', 'no-store');
      return openCaptureSession(deps, req.params.token);
    },
  );

  // What a desktop polls while a phone films: small, unlike the session with its branding (logos can be 128 KiB).
  app.get(
    '/capture/v1/sessions/:token/progress',
    {
      schema: {
        tags: ['capture'],
        summary: 'Capture progress: state, handoff status, uploaded steps, final redirect once over',
        params: TokenParams,
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
      const s = await openCaptureSession(deps, req.params.token);
      return { state: s.state, handoff: s.handoff, uploadedSteps: s.uploadedSteps, redirectUrl: s.redirectUrl };
    },
  );

  app.put(
    '/capture/v1/sessions/:token/media/:step',
    {
      schema: {
        tags: ['capture'],
        summary: `Upload one capture step (raw body; ${ACCEPTED_MEDIA_TYPES.join(', ')})`,
        params: Type.Object({ token: Type.String(), step: Step }),
        response: {
          201: Type.Object({
            step: Type.Optional(Type.String()),
            bytes: Type.Optional(Type.Integer()),
            sha256: Type.Optional(Type.String()),
          }),
          ...errorResponses(400, 404, 409, 410, 413, 415),
        },
      },
    },
    async (req, reply) => {
      refuseDeclaredOver(req, deps.config.uploads.maxBytes, 'A capture file');
      const declared = Number(req.headers['content-length']);
      const r = await putCaptureMedia(
        deps,
        req.params.token,
        req.params.step,
        req.headers['content-type'],
        Number.isSafeInteger(declared) && declared > 0 ? declared : undefined,
        req.raw,
      );
      return reply.status(201).send(r);
    },
  );

  app.post(
    '/capture/v1/sessions/:token/uploads',
    {
      schema: {
        tags: ['capture'],
        summary: 'Start a resumable upload of one step (JSON {step, contentType, size}); send chunks with PATCH',
        params: TokenParams,
        body: StartUploadBody,
        response: { 201: UploadStatus, ...errorResponses(400, 404, 409, 410, 413, 415, 429) },
      },
    },
    async (req, reply) => reply.status(201).send(await startUpload(deps, req.params.token, req.body)),
  );

  app.get(
    '/capture/v1/sessions/:token/uploads/:uploadId',
    {
      schema: {
        tags: ['capture'],
        summary: 'Where a resumable upload stands: resume by sending from `offset`',
        params: UploadParams,
        response: { 200: UploadStatus, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      reply.header('Cache-Control', 'no-store');
      return getUploadStatus(deps, req.params.token, req.params.uploadId);
    },
  );

  app.patch(
    '/capture/v1/sessions/:token/uploads/:uploadId',
    {
      schema: {
        tags: ['capture'],
        summary:
          'Append one chunk (raw body, at most chunkMaxBytes) at the Upload-Offset header; the last chunk assembles the media. A wrong offset answers 409 with details.offset.',
        params: UploadParams,
        // Header names arrive lowercased, and a custom compiler is given the schema as written.
        headers: Type.Object({
          'upload-offset': Type.String({ pattern: '^\\d{1,15}$', [EXPECTED]: 'a non-negative integer' }),
        }),
        response: { 200: UploadStatus, ...errorResponses(400, 404, 409, 410, 413, 415) },
      },
    },
    async (req) => {
      refuseDeclaredOver(req, CHUNK_MAX_BYTES);
      return appendChunk(deps, req.params.token, req.params.uploadId, Number(req.headers['upload-offset']), req.raw);
    },
  );

  app.post(
    '/capture/v1/sessions/:token/probe',
    {
      schema: {
        tags: ['capture'],
        summary: 'Upload-speed probe: send up to 1 MiB of anything; the browser times the request',
        params: TokenParams,
        response: {
          200: { type: 'object', properties: { bytes: { type: 'integer' } } },
          ...errorResponses(404, 409, 410, 413),
        },
      },
    },
    async (req, reply) => {
      refuseDeclaredOver(req, PROBE_MAX_BYTES);
      reply.header('Cache-Control', 'no-store');
      return probeConnection(deps, req.params.token, req.raw);
    },
  );

  app.post(
    '/capture/v1/sessions/:token/handoff',
    {
      schema: {
        tags: ['capture'],
        summary: 'One-time link (and its QR code as SVG) to continue the capture on a phone',
        params: TokenParams,
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
        .send(await createHandoff(deps, req.params.token)),
  );

  app.post(
    '/capture/v1/sessions/:token/complete',
    {
      schema: {
        tags: ['capture'],
        summary: 'Finish the capture (→ processing, kycliveness.create)',
        params: TokenParams,
        body: CompleteBody,
        response: { 200: RedirectResponse, ...errorResponses(400, 404, 409, 410) },
      },
    },
    async (req) => completeCapture(deps, req.params.token, req.body),
  );

  app.post(
    '/capture/v1/sessions/:token/abort',
    {
      schema: {
        tags: ['capture'],
        summary: 'Leave the capture with a documented reason (→ aborted, kycliveness.create)',
        params: TokenParams,
        body: AbortBody,
        response: { 200: RedirectResponse, ...errorResponses(400, 404, 409, 410) },
      },
    },
    async (req) => abortCapture(deps, req.params.token, req.body),
  );

  app.get('/identification/assets/app.js', { schema: { hide: true } as object }, async (req, reply) =>
    sendAsset(reply, await bundleAsset('app.js', assetRequest(req))),
  );
  app.get('/identification/assets/style.css', { schema: { hide: true } as object }, async (req, reply) =>
    sendAsset(reply, await bundleAsset('style.css', assetRequest(req))),
  );

  // The face library and models of the in-browser feedback, served by kyclive itself: no CDN.
  app.get('/identification/assets/human/*', { schema: { hide: true, params: AssetParams } }, async (req, reply) => {
    const r = humanAsset(req.params['*'], req.headers['accept-encoding']);
    if (!r) throw new KycError('not_found', 'Unknown asset.');
    return sendAsset(reply, r);
  });

  // One-time phone link from the desktop's QR code: mints the phone's own token and moves on.
  app.get('/identification/h/:link', { schema: { hide: true, params: LinkParams } }, async (req, reply) => {
    try {
      const { phoneToken } = await claimHandoff(deps, req.params.link);
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
  app.get('/identification/:token', { schema: { hide: true, params: TokenParams } }, async (req, reply) => {
    reply.headers(PAGE_HEADERS);
    try {
      const v = await findByCaptureToken(deps.db, req.params.token);
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
};

export default captureRoutes;
