import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from '../../app/deps.ts';
import { simulatePayinSct } from '../../app/simulation/simulate-payin-sct.ts';
import { simulateVerification } from '../../app/simulation/simulate-verification.ts';
import { ABORT_ROWS } from '../../domain/redirects.ts';
import { AccessTagQuery, accessTagInBody, errorResponses } from '../schemas.ts';
import { principal } from '../auth.ts';
import { EXPECTED } from '../validation.ts';

const literals = (values: readonly string[]) => Type.Union([...new Set(values)].map((v) => Type.Literal(v)));

/** `outcome` names the branch; the reason codes and the aborted row are checked against their catalogues. */
const SimulationBody = Type.Union([
  Type.Object(
    {
      outcome: Type.Literal('processed'),
      score: Type.Optional(
        Type.Union([Type.Integer(), Type.String({ pattern: '^-?\\d$' })], {
          [EXPECTED]: '1, 0 or -1 (a number or a string)',
        }),
      ),
      reasons: Type.Optional(
        Type.Array(
          Type.Union([Type.Integer(), Type.String({ pattern: '^\\d{1,6}$' })], {
            [EXPECTED]: 'a reason code (a number or a string of digits)',
          }),
          { maxItems: 50 },
        ),
      ),
      comment: Type.Optional(Type.String({ maxLength: 1000 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      outcome: Type.Literal('aborted'),
      returnReason: literals(ABORT_ROWS.map((r) => r.returnReason)),
      errorType: literals(ABORT_ROWS.map((r) => r.errorType)),
    },
    { additionalProperties: false, description: 'returnReason and errorType: one of the documented aborted rows.' },
  ),
]);

const PayinBody = Type.Object(
  {
    iban: Type.String({ maxLength: 64 }),
    amount: Type.Union([Type.Number(), Type.String({ pattern: '^\\d{1,10}(\\.\\d{1,2})?$' })], {
      [EXPECTED]: 'a positive number with at most 2 decimals (a number or a string)',
    }),
    ...accessTagInBody,
  },
  { additionalProperties: false },
);

const simulationRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const admin = { scopes: ['admin'] };
  app.post(
    '/simulation/kycliveness/:identificationId',
    {
      config: admin,
      schema: {
        tags: ['sandbox'],
        summary: 'Drive a live verification to an outcome (sandbox only)',
        // Malformed ids answer 404 like unknown ones.
        params: Type.Object({ identificationId: Type.String() }),
        querystring: AccessTagQuery,
        body: SimulationBody,
        response: errorResponses(400, 401, 403, 404, 409, 410),
      },
    },
    async (req) => simulateVerification(deps, principal(req).clientId, req.params.identificationId, req.body),
  );

  app.post(
    '/simulation/payin-sct',
    {
      config: admin,
      schema: {
        tags: ['sandbox'],
        summary: 'Simulate an incoming SEPA credit transfer',
        querystring: AccessTagQuery,
        body: PayinBody,
        response: {
          200: Type.Object({
            id: Type.Optional(Type.Integer()),
            txId: Type.Optional(Type.String()),
            payinId: Type.Optional(Type.Integer()),
            returnReasonCode: Type.Optional(Type.Null()),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (req) => simulatePayinSct(deps, principal(req).clientId, req.body),
  );
};

export default simulationRoutes;
