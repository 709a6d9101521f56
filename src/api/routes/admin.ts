import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { createClient } from '../../app/clients/create-client.ts';
import type { AppDeps } from '../../app/deps.ts';
import { decideKycReview } from '../../app/kyc-review/decide-kyc-review.ts';
import { getKycReviewDossier } from '../../app/kyc-review/request-kyc-review.ts';
import { principal } from '../auth.ts';
import { AccessTagQuery, errorResponses, UserIdParams, UsersResponse } from '../schemas.ts';
import { EXPECTED } from '../validation.ts';

const str = Type.String();

const CreateClientBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scopes: Type.Union([Type.Array(str, { minItems: 1, maxItems: 20 }), Type.String({ maxLength: 200 })], {
      [EXPECTED]: 'a list of scopes (an array, or a string separated by spaces or commas)',
    }),
    method: Type.Optional(Type.Union([Type.Literal('liveness'), Type.Literal('certified')])),
  },
  { additionalProperties: false },
);

const DecisionBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('validated'), Type.Literal('refused')]),
    comment: Type.Optional(Type.String({ maxLength: 1000 })),
    kycLevel: Type.Optional(
      Type.Union([Type.Integer(), Type.String({ pattern: '^\\d{1,2}$' })], {
        [EXPECTED]: 'one of 0, 1, 2, 3, 4, 5, 6 (a number or a string)',
      }),
    ),
  },
  { additionalProperties: false },
);

const adminRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const admin = { scopes: ['admin'] };
  app.post(
    '/admin/clients',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Create an API client (a tenant)',
        querystring: AccessTagQuery,
        body: CreateClientBody,
        response: {
          201: Type.Object({
            client_id: Type.Optional(str),
            client_secret: Type.Optional(str),
            scopes: Type.Optional(Type.Array(str)),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (req, reply) => {
      const c = await createClient(deps.db, req.body);
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
        params: UserIdParams,
      },
    },
    async (req) => getKycReviewDossier(deps, principal(req).clientId, req.params.userId),
  );

  app.post(
    '/admin/users/:userId/kycreview/decision',
    {
      config: admin,
      schema: {
        tags: ['kyc review'],
        summary: 'Validate or refuse a pending KYC review (emits user.kycreview)',
        params: UserIdParams,
        querystring: AccessTagQuery,
        body: DecisionBody,
        response: { 200: UsersResponse, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => ({ users: [await decideKycReview(deps, principal(req).clientId, req.params.userId, req.body)] }),
  );
};

export default adminRoutes;
