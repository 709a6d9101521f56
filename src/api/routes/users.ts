import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../../app/deps.ts';
import { createUser } from '../../app/users/create-user.ts';
import { getUser } from '../../app/users/get-user.ts';
import { updateUser } from '../../app/users/update-user.ts';
import { UserCreateSchema, UserUpdateSchema } from '../../domain/user.ts';
import { principal } from '../auth.ts';
import { AccessTagQuery, errorResponses, UserIdParams, UsersResponse } from '../schemas.ts';

const userRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.post(
    '/v1/users',
    {
      config: { scopes: ['legal', 'admin'] },
      schema: {
        tags: ['users'],
        summary: 'Create a user',
        querystring: AccessTagQuery,
        body: UserCreateSchema,
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
        params: UserIdParams,
        response: { 200: UsersResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => ({ users: [await getUser(deps.db, principal(req).clientId, req.params.userId)] }),
  );

  app.put(
    '/v1/users/:userId',
    {
      config: { scopes: ['read_write'] },
      schema: {
        tags: ['users'],
        summary: 'Update a user',
        params: UserIdParams,
        querystring: AccessTagQuery,
        body: UserUpdateSchema,
        response: { 200: UsersResponse, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => ({ users: [await updateUser(deps, principal(req).clientId, req.params.userId, req.body)] }),
  );
};

export default userRoutes;
