import { storeHealthy, storeMetrics } from '../../control/index.js'
import { COFFER_VERSION } from '../../lib/index.js'
import { definePublicRoute, type Route } from '../api-route.js'
import { renderMetrics } from '../http-metrics.js'
import { z } from 'zod'

/** Health, metrics; the OpenAPI route is added by the app (it needs the route list). */
export const systemRoutes: readonly Route[] = [
  definePublicRoute({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness and store reachability (503 while stopping or when the store is down)',
    tag: 'system',
    response: z.object({ status: z.enum(['ok', 'stopping', 'unavailable']), version: z.string() }),
    handler: async ({ c, control, deps }) => {
      if (deps.stopping?.()) return c.json({ status: 'stopping', version: COFFER_VERSION }, 503)
      if (!(await storeHealthy(control)))
        return c.json({ status: 'unavailable', version: COFFER_VERSION }, 503)
      return { status: 'ok' as const, version: COFFER_VERSION }
    },
  }),
  definePublicRoute({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    tag: 'system',
    produces: 'text/plain',
    handler: async ({ c, control, deps }) => {
      const text = renderMetrics([...(await storeMetrics(control)), ...deps.metrics.families()])
      return c.text(text, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
    },
  }),
]
