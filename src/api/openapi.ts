import { z } from 'zod'
import { COFFER_VERSION } from '../lib/index.js'
import type { Route } from './api-route.js'
import { Problem } from './schemas/common.js'
import { apiRegistry } from './schemas/registry.js'

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/** Moves `$defs` into `components.schemas` and points their `$ref`s there. */
function convert(
  schema: z.ZodType,
  io: 'input' | 'output',
  components: Record<string, Json>,
): Json {
  const js = z.toJSONSchema(schema, {
    metadata: apiRegistry,
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as unknown as Record<string, Json>
  const defs = js.$defs
  delete js.$defs
  delete js.$schema
  if (defs && typeof defs === 'object' && !Array.isArray(defs))
    for (const [k, v] of Object.entries(defs)) components[k] ??= rewrite(v)
  return rewrite(js)
}

function rewrite(v: Json): Json {
  if (Array.isArray(v)) return v.map(rewrite)
  if (v && typeof v === 'object') {
    const out: Record<string, Json> = {}
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string')
        out[k] = x.replace('#/$defs/', '#/components/schemas/')
      else if (k !== '$schema' && k !== '$id') out[k] = rewrite(x)
    }
    return out
  }
  return v
}

/** Query or path parameters from an object schema. */
function parameters(
  schema: z.ZodType | undefined,
  where: 'path' | 'query',
  components: Record<string, Json>,
): Json[] {
  if (!schema) return []
  const js = convert(schema, 'input', components)
  if (!js || typeof js !== 'object' || Array.isArray(js)) return []
  const props = js.properties
  const required = Array.isArray(js.required) ? js.required : []
  if (!props || typeof props !== 'object' || Array.isArray(props)) return []
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.includes(name),
    schema: s,
  }))
}

/**
 * The OpenAPI 3.1 description of the API, generated from the same zod schemas that validate
 * requests (zod 4's `toJSONSchema`, whose 2020-12 output OpenAPI 3.1 takes as is).
 */
export function openApiDocument(routes: readonly Route[]): Json {
  const components: Record<string, Json> = {}
  const paths: Record<string, Record<string, Json>> = {}
  const problem = convert(Problem, 'output', components)
  for (const r of routes) {
    const responses: Record<string, Json> = {}
    responses[String(r.status)] =
      r.status === 204
        ? { description: 'Done.' }
        : {
            description: 'Success.',
            content: r.produces
              ? { [r.produces]: { schema: { type: 'string' } } }
              : {
                  'application/json': {
                    schema: r.response ? convert(r.response, 'output', components) : {},
                  },
                },
          }
    responses.default = {
      description: 'An error: RFC 9457 problem details.',
      content: { 'application/problem+json': { schema: problem } },
    }
    const op: Record<string, Json> = {
      operationId: `${r.method}${r.path.replace(/\{([^}]+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
      summary: r.summary,
      tags: [r.tag],
      parameters: [
        ...parameters(r.params, 'path', components),
        ...parameters(r.query, 'query', components),
      ],
      responses,
      ...(r.auth === 'public' ? { security: [] } : {}),
    }
    if (r.body)
      op.requestBody = {
        required: true,
        content: { 'application/json': { schema: convert(r.body, 'input', components) } },
      }
    paths[r.path] ??= {}
    paths[r.path]![r.method] = op
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Coffer API',
      version: COFFER_VERSION,
      description:
        'Backups of web-application environments. Errors are RFC 9457 problem details whose `detail` is a sentence for the user and `code` a stable identifier. Lists are paged: pass `next_cursor` back as `cursor`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }, { session: [] }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token from POST /api/auth/login or /api/tokens.',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'coffer_session',
          description: 'The console session; changes also need the X-CSRF-Token header.',
        },
      },
    },
  }
}
