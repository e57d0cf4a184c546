import { readFile } from 'node:fs/promises'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import type { Hono } from 'hono'
import type { ApiEnv } from './api-deps.js'

/**
 * How long an idle connection stays open for the client's next request (Node's default: 5 s).
 * A console or script polling every few seconds then keeps its connection instead of opening
 * a new one, which waits to be accepted, one per turn of the event loop, behind whatever an
 * activity runs on it; and it outlasts the 60 s idle timeout of common proxies and load
 * balancers, so they close first and never reuse a connection the server is closing.
 */
const KEEP_ALIVE_MS = 65_000

export interface ListenOptions {
  readonly host: string
  readonly port: number
  /** PEM files for HTTPS without a proxy. */
  readonly tls?: { readonly cert: string; readonly key: string }
}

export interface RunningServer {
  readonly url: string
  readonly port: number
  /** Stops accepting connections and closes idle ones; open streams end within `graceMs`. */
  close(graceMs?: number): Promise<void>
}

/** Serves the app over HTTP or HTTPS on `host:port` (port 0: any free port). */
export async function listen(app: Hono<ApiEnv>, opts: ListenOptions): Promise<RunningServer> {
  const tls = opts.tls
    ? { cert: await readFile(opts.tls.cert), key: await readFile(opts.tls.key) }
    : undefined
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve(
      {
        fetch: app.fetch,
        hostname: opts.host,
        port: opts.port,
        ...(tls ? { createServer: createHttpsServer, serverOptions: tls } : {}),
      },
      () => resolve(s),
    )
    s.once('error', reject)
  })
  if ('keepAliveTimeout' in server) server.keepAliveTimeout = KEEP_ALIVE_MS
  const port = (server.address() as AddressInfo).port
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    close: (graceMs = 5_000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          if ('closeAllConnections' in server) server.closeAllConnections()
        }, graceMs)
        timer.unref()
        server.close(() => {
          clearTimeout(timer)
          resolve()
        })
        if ('closeIdleConnections' in server) server.closeIdleConnections()
      }),
  }
}
