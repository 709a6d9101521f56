import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from '../../app/deps.ts';
import { requestKycReview } from '../../app/kyc-review/request-kyc-review.ts';
import { getLatestVerification } from '../../app/verifications/get-latest-verification.ts';
import { importVerificationDocuments } from '../../app/verifications/import-verification-documents.ts';
import { initiateVerification } from '../../app/verifications/initiate-verification.ts';
import { principal } from '../auth.ts';
import {
  AccessTagQuery,
  accessTagInBody,
  DocumentsResponse,
  errorResponses,
  optionalBody,
  UserIdParams,
  UsersResponse,
} from '../schemas.ts';
import { EXPECTED } from '../validation.ts';

const str = Type.String();

const InitiateBody = optionalBody(
  Type.Object(
    {
      redirectUrl: Type.Optional(
        Type.Union([Type.String({ maxLength: 2000 }), Type.Null()], {
          [EXPECTED]: 'an absolute URL of at most 2000 characters, or null',
          description: 'Where the end user goes after the capture: https (http for localhost only).',
        }),
      ),
      ...accessTagInBody,
    },
    { additionalProperties: false },
  ),
);

const IdentificationItem = Type.Object({
  'identification-id': Type.Optional(str),
  'identification-url': Type.Optional(str),
});
const KyclivenessCreated = Type.Object(
  {
    user_kyc: Type.Optional(Type.Array(IdentificationItem)),
    identification: Type.Optional(IdentificationItem),
    users: Type.Optional(
      Type.Array(
        Type.Object(
          {
            description: Type.Optional(str),
            'identification-id': Type.Optional(str),
            'identification-url': Type.Optional(str),
          },
          { additionalProperties: true },
        ),
      ),
    ),
  },
  {
    description:
      'One object satisfying the three response shapes found in Treezor clients (user_kyc per OAS25, identification per tifo/treezor-sdk, users per the legacy spec).',
  },
);

const KyclivenessState = Type.Object(
  {
    user_id: Type.Optional(str),
    'identification-id': Type.Optional(str),
    'kyc-status': Type.Optional(
      Type.String({ enum: ['initiated', 'processing', 'processed', 'aborted', 'expired', 'superseded'] }),
    ),
    score: Type.Optional(Type.Unsafe<number | null>({ type: ['integer', 'null'] })),
    comment: Type.Optional(str),
    reasons: Type.Optional(
      Type.Array(
        Type.Object(
          { 'reason-code': Type.Optional(Type.Integer()), 'reason-message': Type.Optional(str) },
          { additionalProperties: true },
        ),
      ),
    ),
  },
  { additionalProperties: true },
);

const kyclivenessRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.post(
    '/v1/users/:userId/kycliveness',
    {
      config: { scopes: ['read_write', 'admin'] },
      schema: {
        tags: ['live verification'],
        summary: 'Initiate a live verification',
        params: UserIdParams,
        querystring: AccessTagQuery,
        body: InitiateBody,
        response: { 201: KyclivenessCreated, ...errorResponses(400, 401, 403, 404, 428) },
      },
    },
    async (req, reply) => {
      const r = await initiateVerification(deps, principal(req).clientId, req.params.userId, req.body);
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
        params: UserIdParams,
        response: { 200: KyclivenessState, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => getLatestVerification(deps, principal(req).clientId, req.params.userId),
  );

  app.put(
    '/v1/users/:userId/kycliveness',
    {
      config: { scopes: ['read_write', 'admin'] },
      schema: {
        tags: ['live verification'],
        summary: 'Import the documents of the processed live verification',
        params: UserIdParams,
        querystring: AccessTagQuery,
        response: { 200: DocumentsResponse, ...errorResponses(400, 401, 403, 404, 406, 410) },
      },
    },
    async (req) => {
      const r = await importVerificationDocuments(deps, principal(req).clientId, req.params.userId);
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
        params: UserIdParams,
        querystring: AccessTagQuery,
        response: { 200: UsersResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => ({ users: [await requestKycReview(deps, principal(req).clientId, req.params.userId)] }),
  );
};

export default kyclivenessRoutes;
