import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { createUser } from '../../app/users/create-user.ts';
import { getUser } from '../../app/users/get-user.ts';
import { updateUser } from '../../app/users/update-user.ts';
import { principal } from '../auth.ts';
import { accessTagQuery, errorResponses, userIdParams, UsersResponse } from '../schemas.ts';

export default async function userRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }) {
  app.post(
    '/v1/users',
    {
      config: { scopes: ['legal', 'admin'] },
      schema: {
        tags: ['users'],
        summary: 'Create a user',
        querystring: accessTagQuery,
        body: { type: 'object', additionalProperties: true },
        response: { 200: UsersResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => ({ users: [await createUser(deps, principal(req).clientId, req.body)] }),
  );

  app.get(
    '/v1/users/:userId',
    {
      config: { scopes: ['read_only', 'read_write'] },
      schema: {
        tags: ['users'],
        summary: 'Get a user',
        params: userIdParams,
        response: { 200: UsersResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => ({
      users: [await getUser(deps.db, principal(req).clientId, (req.params as { userId: string }).userId)],
    }),
  );

  app.put(
    '/v1/users/:userId',
    {
      config: { scopes: ['read_write'] },
      schema: {
        tags: ['users'],
        summary: 'Update a user',
        params: userIdParams,
        querystring: accessTagQuery,
        body: { type: 'object', additionalProperties: true },
        response: { 200: UsersResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => ({
      users: [await updateUser(deps, principal(req).clientId, (req.params as { userId: string }).userId, req.body)],
    }),
  );
}
