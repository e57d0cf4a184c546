import { z } from 'zod'
import {
  createApiToken,
  createUser,
  deleteUser,
  getUser,
  listTokens,
  listUsers,
  revokeToken,
  updateUser,
  USER_NAME,
} from '../../control/index.js'
import { defineRoute, type Route } from '../api-route.js'
import { pageOf } from '../schemas/common.js'
import {
  CreateToken,
  CreateUser,
  NewToken,
  Token,
  tokenJson,
  UpdateUser,
  User,
  userJson,
} from '../schemas/users.js'

const UserParam = z.object({ user: USER_NAME })

export const userRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: '/api/users',
    summary: 'List users (operators: all; others: themselves)',
    tag: 'users',
    response: pageOf(User),
    handler: async ({ actor, control }) => ({
      items: (await listUsers(actor, control)).map(userJson),
      next_cursor: null,
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/users',
    summary: 'Create a user (operators)',
    tag: 'users',
    body: CreateUser,
    status: 201,
    response: User,
    handler: async ({ actor, body, control }) =>
      userJson(
        await createUser(
          actor,
          {
            name: body.name,
            ...(body.password ? { password: body.password } : {}),
            ...(body.operator !== undefined ? { operator: body.operator } : {}),
          },
          control,
        ),
      ),
  }),
  defineRoute({
    method: 'get',
    path: '/api/users/{user}',
    summary: 'Get a user (operators, or oneself)',
    tag: 'users',
    params: UserParam,
    response: User,
    handler: async ({ actor, params, control }) =>
      userJson(await getUser(actor, params.user, control)),
  }),
  defineRoute({
    method: 'patch',
    path: '/api/users/{user}',
    summary: 'Change a password (one’s own, or operators any) or the operator flag (operators)',
    tag: 'users',
    params: UserParam,
    body: UpdateUser,
    response: User,
    handler: async ({ actor, params, body, control }) =>
      userJson(
        await updateUser(
          actor,
          params.user,
          {
            ...(body.password ? { password: body.password } : {}),
            ...(body.operator !== undefined ? { operator: body.operator } : {}),
          },
          control,
        ),
      ),
  }),
  defineRoute({
    method: 'delete',
    path: '/api/users/{user}',
    summary: 'Delete a user (operators)',
    tag: 'users',
    params: UserParam,
    status: 204,
    handler: async ({ actor, params, control }) => {
      await deleteUser(actor, params.user, control)
      return undefined
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/tokens',
    summary: 'List your API tokens and sessions',
    tag: 'tokens',
    response: pageOf(Token),
    handler: async ({ actor, control }) => ({
      items: (await listTokens(actor, control)).map(tokenJson),
      next_cursor: null,
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/api/tokens',
    summary: 'Create an API token (shown once)',
    tag: 'tokens',
    body: CreateToken,
    status: 201,
    response: NewToken,
    handler: async ({ actor, body, control }) => {
      const t = await createApiToken(
        actor,
        {
          name: body.name,
          ...(body.expires_in_days ? { expiresInDays: body.expires_in_days } : {}),
        },
        control,
      )
      return { token: t.token, info: tokenJson(t.view) }
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/tokens/{id}',
    summary: 'Revoke a token or end a session',
    tag: 'tokens',
    params: z.object({ id: z.string().max(64) }),
    status: 204,
    handler: async ({ actor, params, control }) => {
      await revokeToken(actor, params.id, control)
      return undefined
    },
  }),
]
