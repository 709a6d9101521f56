import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from '../../app/deps.ts';
import {
  createSubscription,
  deleteSubscription,
  listDeliveries,
  listSubscriptions,
  replayDelivery,
} from '../../app/webhooks/subscriptions.ts';
import { principal } from '../auth.ts';
import { AccessTagQuery, errorResponses } from '../schemas.ts';

const str = Type.String();

const SubscriptionBody = Type.Object(
  { url: Type.String({ maxLength: 2000, description: 'https (http to loopback or private networks if allowed)' }) },
  { additionalProperties: false },
);

const DeliveriesQuery = Type.Object({
  state: Type.Optional(
    Type.Union([
      Type.Literal('pending'),
      Type.Literal('delivering'),
      Type.Literal('delivered'),
      Type.Literal('abandoned'),
    ]),
  ),
});

// Malformed ids answer 404 like unknown ones: they are checked where they are looked up.
const HookParams = Type.Object({ uuid: str });
const DeliveryParams = Type.Object({ deliveryId: str });

const settingsRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const admin = { scopes: ['admin'] };
  app.post(
    '/settings/hooks',
    {
      config: admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Subscribe a webhook receiver',
        querystring: AccessTagQuery,
        body: SubscriptionBody,
        response: {
          201: Type.Object({
            uuid: Type.Optional(str),
            url: Type.Optional(str),
            secret: Type.Optional(str),
            status: Type.Optional(str),
          }),
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
    {
      config: admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Delete a webhook subscription',
        params: HookParams,
        querystring: AccessTagQuery,
      },
    },
    async (req, reply) => {
      await deleteSubscription(deps, principal(req).clientId, req.params.uuid);
      return reply.status(204).send();
    },
  );

  app.get(
    '/admin/webhooks/deliveries',
    {
      config: admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Delivery log (last 200), with every attempt',
        querystring: DeliveriesQuery,
      },
    },
    async (req) => ({ deliveries: await listDeliveries(deps, principal(req).clientId, req.query) }),
  );

  app.post(
    '/admin/webhooks/deliveries/:deliveryId/replay',
    {
      config: admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Deliver again now',
        params: DeliveryParams,
        querystring: AccessTagQuery,
      },
    },
    async (req, reply) => {
      await replayDelivery(deps, principal(req).clientId, req.params.deliveryId);
      return reply.status(202).send({ queued: true });
    },
  );
};

export default settingsRoutes;
