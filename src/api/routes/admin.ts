import type { FastifyInstance } from 'fastify';
import { createClient } from '../../app/clients/create-client.ts';
import type { AppDeps } from '../../app/deps.ts';
import { decideKycReview } from '../../app/kyc-review/decide-kyc-review.ts';
import { getKycReviewDossier } from '../../app/kyc-review/request-kyc-review.ts';
import { principal } from '../auth.ts';
import { errorResponses, userIdParams, UsersResponse } from '../schemas.ts';

export default async function adminRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }) {
  const admin = { scopes: ['admin'] };
  app.post(
    '/admin/clients',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Create an API client (a tenant)',
        body: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            scopes: { type: 'array', items: { type: 'string' } },
            method: { type: 'string', enum: ['liveness', 'certified'] },
          },
          required: ['name', 'scopes'],
        },
        response: {
          201: {
            type: 'object',
            properties: {
              client_id: { type: 'string' },
              client_secret: { type: 'string' },
              scopes: { type: 'array', items: { type: 'string' } },
            },
          },
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (req, reply) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const c = await createClient(deps.db, { name: b.name, scopes: b.scopes, method: b.method });
      return reply.status(201).send({ client_id: c.clientId, client_secret: c.clientSecret, scopes: c.scopes });
    },
  );

  app.get(
    '/admin/users/:userId/kycreview',
    {
      config: admin,
      schema: {
        tags: ['kyc review'],
        summary: 'Review dossier: user, children and their documents',
        params: userIdParams,
      },
    },
    async (req) => getKycReviewDossier(deps, principal(req).clientId, (req.params as { userId: string }).userId),
  );

  app.post(
    '/admin/users/:userId/kycreview/decision',
    {
      config: admin,
      schema: {
        tags: ['kyc review'],
        summary: 'Validate or refuse a pending KYC review (emits user.kycreview)',
        params: userIdParams,
        body: {
          type: 'object',
          properties: {
            decision: { type: 'string', enum: ['validated', 'refused'] },
            comment: { type: 'string' },
            kycLevel: { type: 'integer' },
          },
          required: ['decision'],
        },
        response: { 200: UsersResponse, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => ({
      users: [
        await decideKycReview(deps, principal(req).clientId, (req.params as { userId: string }).userId, req.body),
      ],
    }),
  );
}
