/**
 * @module The REST API: Hono routes over the control plane, validated by zod schemas that
 * also produce the OpenAPI 3.1 description; bearer tokens and console sessions (with CSRF
 * protection); RFC 9457 problem details; Server-Sent Events of activities; health and
 * Prometheus metrics; the HTTP(S) listener and the pino root logger.
 */
export { API_ROUTES, createApp } from './app.js'
export type { ApiDeps, ApiEnv } from './api-deps.js'
export { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE } from './auth-middleware.js'
export { HttpMetrics, renderMetrics } from './http-metrics.js'
export { createLogger, REDACT_PATHS } from './logger.js'
export { openApiDocument } from './openapi.js'
export { listen } from './server.js'
export type { ListenOptions, RunningServer } from './server.js'
