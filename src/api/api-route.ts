import type { Context } from 'hono'
import type { z } from 'zod'
import { CofferError } from '../errors.js'
import type { Actor, ControlContext } from '../control/index.js'
import type { ApiDeps, ApiEnv } from './api-deps.js'
import { fromZod } from './problem.js'

export const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const
export type Method = (typeof METHODS)[number]

/** What a route's handler receives: parsed input, the actor, the control context. */
export interface RouteInput<P, Q, B, A extends Actor | undefined> {
  readonly params: P
  readonly query: Q
  readonly body: B
  readonly actor: A
  readonly control: ControlContext
  readonly deps: ApiDeps
  readonly c: Context<ApiEnv>
}

interface RouteSpec<P, Q, B, A extends Actor | undefined, R> {
  readonly method: Method
  /** OpenAPI-style path: `/api/projects/{project}`. */
  readonly path: string
  readonly summary: string
  readonly tag: string
  readonly params?: z.ZodType<P>
  readonly query?: z.ZodType<Q>
  readonly body?: z.ZodType<B>
  /** Success status (200 by default; 201 creates, 202 starts an activity, 204 no body). */
  readonly status?: 200 | 201 | 202 | 204
  readonly response?: z.ZodType<R>
  /** Non-JSON responses (streams, metrics) for the OpenAPI description. */
  readonly produces?: string
  readonly handler: (input: RouteInput<P, Q, B, A>) => Promise<R | Response>
}

/** A route with its types erased: what the app mounts and the OpenAPI generator reads. */
export interface Route {
  readonly method: Method
  readonly path: string
  readonly summary: string
  readonly tag: string
  readonly auth: 'user' | 'public'
  readonly params?: z.ZodType
  readonly query?: z.ZodType
  readonly body?: z.ZodType
  readonly status: number
  readonly response?: z.ZodType
  readonly produces?: string
  run(c: Context<ApiEnv>, deps: ApiDeps): Promise<Response>
}

function parse<T>(
  schema: z.ZodType<T> | undefined,
  value: unknown,
  where: 'body' | 'query' | 'path',
): T {
  if (!schema) return undefined as T
  const r = schema.safeParse(value)
  if (!r.success) throw fromZod(r.error, where)
  return r.data
}

async function readBody(c: Context<ApiEnv>): Promise<unknown> {
  const text = await c.req.text()
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new CofferError('invalid_input', 'The request body is not valid JSON.')
  }
}

/**
 * Declares a route for signed-in users (401 otherwise): its schemas validate the request
 * and describe it in OpenAPI (one source for both), and the handler calls one control
 * function.
 */
export function defineRoute<P, Q, B, R>(spec: RouteSpec<P, Q, B, Actor, R>): Route {
  return build(spec, 'user')
}

/** Declares a route anyone may call (sign-in, health, metrics, the OpenAPI description). */
export function definePublicRoute<P, Q, B, R>(
  spec: RouteSpec<P, Q, B, Actor | undefined, R>,
): Route {
  return build(spec, 'public')
}

function build<P, Q, B, A extends Actor | undefined, R>(
  spec: RouteSpec<P, Q, B, A, R>,
  auth: 'user' | 'public',
): Route {
  return {
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    tag: spec.tag,
    auth,
    ...(spec.params ? { params: spec.params } : {}),
    ...(spec.query ? { query: spec.query } : {}),
    ...(spec.body ? { body: spec.body } : {}),
    status: spec.status ?? 200,
    ...(spec.response ? { response: spec.response } : {}),
    ...(spec.produces ? { produces: spec.produces } : {}),
    async run(c, deps) {
      const actor = c.get('actor')
      if (auth === 'user' && !actor)
        throw new CofferError(
          'unauthenticated',
          'Sign in first: send a token (Authorization: Bearer …) or sign in to the console.',
        )
      const params = parse(spec.params, c.req.param(), 'path')
      const query = parse(spec.query, c.req.query(), 'query')
      const body = spec.body ? parse(spec.body, await readBody(c), 'body') : (undefined as B)
      const out = await spec.handler({
        params,
        query,
        body,
        actor: actor as A,
        control: deps.control,
        deps,
        c,
      })
      if (out instanceof Response) return out
      const status = spec.status ?? 200
      if (status === 204) return c.body(null, 204)
      return c.json(out as object, status)
    },
  }
}
