import { z } from 'zod'
import {
  PASSWORD,
  TOKEN_KINDS,
  USER_NAME,
  type TokenView,
  type UserView,
} from '../../control/index.js'
import { component } from './registry.js'
import { Timestamp } from './common.js'

export const User = component(
  'User',
  z.object({
    id: z.string(),
    name: z.string(),
    operator: z.boolean(),
    created_at: Timestamp,
  }),
)
export type UserJson = z.infer<typeof User>
export const userJson = (u: UserView): UserJson => ({
  id: u.id,
  name: u.name,
  operator: u.operator,
  created_at: u.createdAt,
})

export const CreateUser = z.object({
  name: USER_NAME,
  password: PASSWORD.optional(),
  operator: z.boolean().optional(),
})
export const UpdateUser = z.object({
  password: PASSWORD.optional(),
  operator: z.boolean().optional(),
})

export const Token = component(
  'Token',
  z.object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(TOKEN_KINDS),
    created_at: Timestamp,
    last_used_at: Timestamp.nullable(),
    expires_at: Timestamp.nullable(),
  }),
)
export const tokenJson = (t: TokenView): z.infer<typeof Token> => ({
  id: t.id,
  name: t.name,
  kind: t.kind,
  created_at: t.createdAt,
  last_used_at: t.lastUsedAt,
  expires_at: t.expiresAt,
})
export const CreateToken = z.object({
  name: z.string().min(1).max(100),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
})
export const NewToken = component(
  'NewToken',
  z.object({ token: z.string().describe('Shown once; store it now.'), info: Token }),
)

export const Login = z.object({
  user: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  /** The console: set an HttpOnly session cookie instead of returning the token. */
  cookie: z.boolean().optional(),
})
export const LoginResult = component(
  'LoginResult',
  z.object({
    token: z.string().optional().describe('The session token (absent in cookie mode).'),
    csrf_token: z.string().optional().describe('Cookie mode: send it back in X-CSRF-Token.'),
    expires_at: Timestamp,
    user: User,
  }),
)
export const Me = component(
  'Me',
  z.object({ user: User, via: z.enum(['token', 'session']), csrf_token: z.string().optional() }),
)
