import type { FastifyInstance } from 'fastify';
import { findByCaptureToken } from '../../app/capture/capture-session.ts';
import { abortCapture, completeCapture } from '../../app/capture/finish-capture.ts';
import { openCaptureSession } from '../../app/capture/open-capture-session.ts';
import { ACCEPTED_MEDIA_TYPES, uploadCaptureMedia } from '../../app/capture/upload-capture-media.ts';
import type { AppDeps } from '../../app/deps.ts';
import { effectiveState } from '../../domain/verification/transitions.ts';
import { isKycError, KycError } from '../../domain/errors.ts';
import { errorResponses } from '../schemas.ts';
import { invalidJson } from '../error-handler.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}h1{font-size:1.4rem}</style></head>
<body><main><h1>${esc(title)}</h1>${body}</main></body></html>`;
}

/**
 * The capture session API used by the hosted capture app. The opaque token of the
 * identification-url is the end user's only credential; no bearer token here.
 */
export default async function captureRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }) {
  // Media bodies are streamed to the blob store untouched: no parser may buffer them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    try { done(null, body === '' ? undefined : JSON.parse(body as string)); } catch { done(invalidJson() as never, undefined); }
  });

  const tokenParams = { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] };

  app.get('/capture/v1/sessions/:token', { schema: { tags: ['capture'], summary: 'Capture session state (for the hosted app)', params: tokenParams, response: errorResponses(404) } },
    async (req) => openCaptureSession(deps, (req.params as { token: string }).token));

  app.put('/capture/v1/sessions/:token/media/:step', {
    schema: {
      tags: ['capture'], summary: `Upload one capture step (raw body; ${ACCEPTED_MEDIA_TYPES.join(', ')})`,
      params: { type: 'object', properties: { token: { type: 'string' }, step: { type: 'string', enum: ['document_front', 'document_back', 'document_tilt', 'face'] } } },
      response: { 201: { type: 'object', properties: { step: { type: 'string' }, bytes: { type: 'integer' }, sha256: { type: 'string' } } }, ...errorResponses(400, 404, 409, 410, 413, 415) },
    },
  }, async (req, reply) => {
    const p = req.params as { token: string; step: string };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > deps.config.uploads.maxBytes) {
      // Refuse before reading a byte; the client learns the limit.
      reply.header('Connection', 'close');
      throw new KycError('payload_too_large', `A capture file may be at most ${deps.config.uploads.maxBytes} bytes.`);
    }
    try {
      const r = await uploadCaptureMedia(deps, p.token, p.step, req.headers['content-type'], req.raw);
      return reply.status(201).send(r);
    } catch (e) {
      // Refused before the body was read to its end: the rest of it is still on the socket, and a
      // kept-alive connection would parse it as the next request.
      if (!req.raw.readableEnded) reply.header('Connection', 'close');
      throw e;
    }
  });

  app.post('/capture/v1/sessions/:token/complete', { schema: { tags: ['capture'], summary: 'Finish the capture (→ processing, kycliveness.create)', params: tokenParams, response: errorResponses(400, 404, 409, 410) } },
    async (req) => completeCapture(deps, (req.params as { token: string }).token, req.body));

  app.post('/capture/v1/sessions/:token/abort', { schema: { tags: ['capture'], summary: 'Leave the capture with a documented reason (→ aborted, kycliveness.create)', params: tokenParams, response: errorResponses(400, 404, 409, 410) } },
    async (req) => abortCapture(deps, (req.params as { token: string }).token, req.body));

  // The identification-url itself. Until the hosted capture app lands (issue 4), a plain page
  // that states the session's status honestly.
  app.get('/identification/:token', { schema: { hide: true } as object }, async (req, reply) => {
    reply.header('Content-Type', 'text/html; charset=utf-8').header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer');
    try {
      const v = await findByCaptureToken(deps.db, (req.params as { token: string }).token);
      const state = effectiveState(v, deps.clock.now());
      if (state === 'superseded') return reply.status(410).send(page('This link was replaced', '<p>A newer identity verification was started for you. Please use the most recent link you received.</p>'));
      if (state === 'expired') return reply.status(410).send(page('This link has expired', '<p>Please ask for a new identity verification link.</p>'));
      if (state !== 'initiated') return reply.send(page('Verification already submitted', '<p>This identity verification has been completed. You can close this page.</p>'));
      return reply.send(page('Identity verification', '<p>The in-browser capture app is not available on this server yet. Your verification session is open; the integrator can complete it through the capture API or the sandbox.</p>'));
    } catch (e) {
      if (isKycError(e) && e.code === 'not_found') return reply.status(404).send(page('Link not recognised', '<p>Check that you opened the full link you received.</p>'));
      throw e;
    }
  });

  app.get('/identification/done', { schema: { hide: true } as object }, async (_req, reply) =>
    reply.header('Content-Type', 'text/html; charset=utf-8').send(page('Thank you', '<p>Your identity verification has been submitted. You can close this page.</p>')));
}
