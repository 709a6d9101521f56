import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { requestKycReview } from '../../app/kyc-review/request-kyc-review.ts';
import { getLatestVerification } from '../../app/verifications/get-latest-verification.ts';
import { importVerificationDocuments } from '../../app/verifications/import-verification-documents.ts';
import { initiateVerification } from '../../app/verifications/initiate-verification.ts';
import { principal } from '../auth.ts';
import {
  accessTagQuery,
  DocumentsResponse,
  errorResponses,
  KyclivenessCreated,
  KyclivenessState,
  userIdParams,
  UsersResponse,
} from '../schemas.ts';

export default async function kyclivenessRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }) {
  app.post(
    '/v1/users/:userId/kycliveness',
    {
      config: { scopes: ['read_write', 'admin'] },
      schema: {
        tags: ['live verification'],
        summary: 'Initiate a live verification',
        params: userIdParams,
        querystring: accessTagQuery,
        body: { type: 'object', properties: { redirectUrl: { type: 'string', format: 'uri' } } },
        response: { 201: KyclivenessCreated, ...errorResponses(400, 401, 403, 404, 428) },
      },
    },
    async (req, reply) => {
      const r = await initiateVerification(
        deps,
        principal(req).clientId,
        (req.params as { userId: string }).userId,
        req.body,
      );
      const item = { 'identification-id': r.identificationId, 'identification-url': r.identificationUrl };
      return reply.status(201).send({
        user_kyc: [item],
        identification: item,
        users: [{ description: 'live verification initiated', ...item }],
      });
    },
  );

  app.get(
    '/v1/users/:userId/kycliveness',
    {
      config: { scopes: ['read_only', 'read_write'] },
      schema: {
        tags: ['live verification'],
        summary: 'Latest live verification of the user (kyclive extension)',
        description:
          "Not in Treezor's API: returns what the kycliveness webhooks carry, so a missed webhook can be recovered.",
        params: userIdParams,
        response: { 200: KyclivenessState, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => getLatestVerification(deps, principal(req).clientId, (req.params as { userId: string }).userId),
  );

  app.put(
    '/v1/users/:userId/kycliveness',
    {
      config: { scopes: ['read_write', 'admin'] },
      schema: {
        tags: ['live verification'],
        summary: 'Import the documents of the processed live verification',
        params: userIdParams,
        querystring: accessTagQuery,
        response: { 200: DocumentsResponse, ...errorResponses(400, 401, 403, 404, 406, 410) },
      },
    },
    async (req) => {
      const r = await importVerificationDocuments(
        deps,
        principal(req).clientId,
        (req.params as { userId: string }).userId,
      );
      return { documents: r.documents };
    },
  );

  app.put(
    '/v1/users/:userId/Kycreview',
    {
      config: { scopes: ['read_write'] },
      schema: {
        tags: ['kyc review'],
        summary: 'Request a KYC review',
        params: userIdParams,
        querystring: accessTagQuery,
        response: { 200: UsersResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => ({
      users: [await requestKycReview(deps, principal(req).clientId, (req.params as { userId: string }).userId)],
    }),
  );
}
