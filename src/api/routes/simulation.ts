import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { simulatePayinSct } from '../../app/simulation/simulate-payin-sct.ts';
import { simulateVerification } from '../../app/simulation/simulate-verification.ts';
import { REDIRECT_ROWS } from '../../domain/redirects.ts';
import { REASONS } from '../../domain/reasons.ts';
import { principal } from '../auth.ts';
import { errorResponses } from '../schemas.ts';

export default async function simulationRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }) {
  const admin = { scopes: ['admin'] };
  app.post(
    '/simulation/kycliveness/:identificationId',
    {
      config: admin,
      schema: {
        tags: ['sandbox'],
        summary: 'Drive a live verification to an outcome (sandbox only)',
        body: {
          oneOf: [
            {
              type: 'object',
              properties: {
                outcome: { const: 'processed' },
                score: { enum: [1, 0, -1] },
                reasons: { type: 'array', items: { enum: REASONS.map((r) => r.code) } },
                comment: { type: 'string' },
              },
              required: ['outcome'],
            },
            {
              type: 'object',
              properties: {
                outcome: { const: 'aborted' },
                returnReason: { enum: [...new Set(REDIRECT_ROWS.map((r) => r.returnReason))] },
                errorType: { enum: [...new Set(REDIRECT_ROWS.map((r) => r.errorType))] },
              },
              required: ['outcome', 'returnReason', 'errorType'],
            },
          ],
        },
        response: errorResponses(400, 401, 403, 404, 409, 410),
      },
    },
    async (req) =>
      simulateVerification(
        deps,
        principal(req).clientId,
        (req.params as { identificationId: string }).identificationId,
        req.body,
      ),
  );

  app.post(
    '/simulation/payin-sct',
    {
      config: admin,
      schema: {
        tags: ['sandbox'],
        summary: 'Simulate an incoming SEPA credit transfer',
        body: {
          type: 'object',
          properties: { iban: { type: 'string' }, amount: { type: 'number' } },
          required: ['iban', 'amount'],
        },
        response: {
          200: {
            type: 'object',
            properties: {
              id: { type: 'integer' },
              txId: { type: 'string' },
              payinId: { type: 'integer' },
              returnReasonCode: { type: 'null' },
            },
          },
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (req) => simulatePayinSct(deps, principal(req).clientId, req.body),
  );
}
