import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { except } from 'hono/combine'
import { CofferError } from '../errors.js'
import type { ApiDeps, ApiEnv } from './api-deps.js'
import { definePublicRoute, type Route } from './api-route.js'
import { authMiddleware } from './auth-middleware.js'
import { openApiDocument } from './openapi.js'
import { errorToResponse, problem, problemResponse } from './problem.js'
import { activityRoutes } from './routes/activity-routes.js'
import { adminRoutes } from './routes/admin-routes.js'
import { authRoutes } from './routes/auth-routes.js'
import { backupRoutes } from './routes/backup-routes.js'
import { projectRoutes } from './routes/project-routes.js'
import { repositoryRoutes } from './routes/repository-routes.js'
import { systemRoutes } from './routes/system-routes.js'
import { userRoutes } from './routes/user-routes.js'

/** Every route of the API (the OpenAPI description is generated from this list). */
export const API_ROUTES: readonly Route[] = [
  ...authRoutes,
  ...userRoutes,
  ...projectRoutes,
  ...repositoryRoutes,
  ...backupRoutes,
  ...activityRoutes,
  ...adminRoutes,
  ...systemRoutes,
]

const MAX_BODY_BYTES = 1024 * 1024

/** Methods whose requests carry no body the API reads (RFC 9110, 9.3.1, 9.3.2). */
const BODILESS_METHODS = new Set(['GET', 'HEAD'])

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
}

/**
 * The HTTP application: routes under /api, /healthz, /metrics, /api/openapi.json, and the
 * web console at / when built. Logs one line per request (method, route pattern, status,
 * duration, user — never headers or bodies).
 */
export function createApp(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>()
  const openapi = openApiDocument([...API_ROUTES, openApiRoute()])
  const log = deps.log.child({ module: 'api' })

  app.use('*', async (c, next) => {
    const started = performance.now()
    const headers = securityHeaders(c.req.path)
    // Set before the route answers, so they go into the response it builds: set on a
    // finished response, Hono copies the whole response to change its headers.
    for (const [name, value] of headers) c.header(name, value)
    await next()
    const seconds = (performance.now() - started) / 1000
    const route = c.get('routePath') ?? 'unmatched'
    deps.metrics.observe(c.req.method, route, c.res.status, seconds)
    log.info(
      {
        method: c.req.method,
        route,
        status: c.res.status,
        ms: Math.round(seconds * 1000),
        user: c.get('actor')?.name,
      },
      'request',
    )
    // A response made without the context (or one that set its own value) gets them now.
    for (const [name, value] of headers)
      if (c.res.headers.get(name) !== value) c.header(name, value)
  })
  // Only where a body may come: the limit reads `Request.body`, which makes @hono/node-server
  // build a full web Request (a stream and all) for every GET it could otherwise skip.
  app.use(
    '/api/*',
    except(
      (c) => BODILESS_METHODS.has(c.req.method),
      bodyLimit({
        maxSize: MAX_BODY_BYTES,
        onError: (c) =>
          problemResponse(c, problem('invalid_input', 'The request body is too large.')),
      }),
    ),
  )
  app.use('/api/*', authMiddleware(deps))

  for (const r of [...API_ROUTES, openApiRoute(openapi)]) {
    const honoPath = r.path.replace(/\{([^}]+)\}/g, ':$1')
    app.on(r.method.toUpperCase(), honoPath, async (c) => {
      c.set('routePath', r.path)
      return r.run(c, deps)
    })
  }

  if (deps.consoleDir && existsSync(join(deps.consoleDir, 'index.html'))) {
    const root = normalize(deps.consoleDir)
    app.get('*', async (c) => {
      if (c.req.path.startsWith('/api/')) return c.notFound()
      const rel = normalize(decodeURIComponent(c.req.path)).replace(/^([/\\])+/, '')
      const file = join(root, rel)
      const inside = file === root || file.startsWith(root + sep)
      const target =
        inside && rel && existsSync(file) && extname(file) ? file : join(root, 'index.html')
      const body = await readFile(target)
      return c.body(body, 200, {
        'content-type': CONTENT_TYPES[extname(target)] ?? 'application/octet-stream',
      })
    })
  }

  app.notFound((c) =>
    problemResponse(c, problem('not_found', `There is no ${c.req.method} ${c.req.path}.`)),
  )
  app.onError((e, c) => errorToResponse(e, c, log))
  return app
}

/** Headers of every answer: no MIME sniffing; API answers (user data) kept in no cache. */
function securityHeaders(path: string): readonly (readonly [string, string])[] {
  return path.startsWith('/api/')
    ? [
        ['x-content-type-options', 'nosniff'],
        ['cache-control', 'no-store'],
      ]
    : [['x-content-type-options', 'nosniff']]
}

function openApiRoute(doc?: unknown): Route {
  return definePublicRoute({
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This API’s OpenAPI 3.1 description',
    tag: 'system',
    produces: 'application/json',
    handler: async ({ c }) => {
      if (doc === undefined)
        throw new CofferError('internal', 'The OpenAPI description is not ready.')
      return c.json(doc as object)
    },
  })
}
