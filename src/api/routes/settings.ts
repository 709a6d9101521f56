import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import {
  createSubscription,
  deleteSubscription,
  listDeliveries,
  listSubscriptions,
  replayDelivery,
} from '../../app/webhooks/subscriptions.ts';
import { principal } from '../auth.ts';
import { errorResponses } from '../schemas.ts';

export default async function settingsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }) {
  const admin = { scopes: ['admin'] };
  app.post(
    '/settings/hooks',
    {
      config: admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Subscribe a webhook receiver',
        body: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
        response: {
          201: {
            type: 'object',
            properties: {
              uuid: { type: 'string' },
              url: { type: 'string' },
              secret: { type: 'string' },
              status: { type: 'string' },
            },
          },
          ...errorResponses(400, 401, 403, 409),
        },
      },
    },
    async (req, reply) => reply.status(201).send(await createSubscription(deps, principal(req).clientId, req.body)),
  );

  app.get(
    '/settings/hooks',
    { config: admin, schema: { tags: ['webhooks'], summary: 'List webhook subscriptions' } },
    async (req) => ({ hooks: await listSubscriptions(deps, principal(req).clientId) }),
  );

  app.delete(
    '/settings/hooks/:uuid',
    { config: admin, schema: { tags: ['webhooks'], summary: 'Delete a webhook subscription' } },
    async (req, reply) => {
      await deleteSubscription(deps, principal(req).clientId, (req.params as { uuid: string }).uuid);
      return reply.status(204).send();
    },
  );

  app.get(
    '/admin/webhooks/deliveries',
    { config: admin, schema: { tags: ['webhooks'], summary: 'Delivery log (last 200), with every attempt' } },
    async (req) => ({
      deliveries: await listDeliveries(deps, principal(req).clientId, req.query as Record<string, unknown>),
    }),
  );

  app.post(
    '/admin/webhooks/deliveries/:deliveryId/replay',
    { config: admin, schema: { tags: ['webhooks'], summary: 'Deliver again now' } },
    async (req, reply) => {
      await replayDelivery(deps, principal(req).clientId, (req.params as { deliveryId: string }).deliveryId);
      return reply.status(202).send({ queued: true });
    },
  );
}
