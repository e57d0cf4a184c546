import { readFile } from 'node:fs/promises'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import type { Hono } from 'hono'
import type { ApiEnv } from './api-deps.js'

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
