import type { Actor, ControlContext } from '../control/index.js'
import type { Logger } from '../lib/index.js'
import type { HttpMetrics } from './http-metrics.js'

/** What the HTTP layer is built from (by `coffer serve`). */
export interface ApiDeps {
  readonly control: ControlContext
  readonly log: Logger
  /** Served over TLS: session cookies get `Secure`. */
  readonly tls: boolean
  readonly metrics: HttpMetrics
  /** How often activity streams look for news (ms). */
  readonly streamPollMs?: number
  /** The built web console (`web/dist`), served at `/` when present. */
  readonly consoleDir?: string
  /** Whether the process is stopping (health turns 503 so balancers drain it). */
  readonly stopping?: () => boolean
}

/** Values the auth middleware leaves for routes. */
export interface ApiVariables {
  actor: Actor | undefined
  /** The session token when the request came with the session cookie. */
  sessionToken: string | undefined
  address: string | undefined
  routePath: string
}

export type ApiEnv = { Variables: ApiVariables }
