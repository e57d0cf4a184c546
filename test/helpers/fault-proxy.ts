import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Agent, createServer, request } from 'node:https'
import type { AddressInfo } from 'node:net'
import { pipeline } from 'node:stream/promises'

export const PROXY_FAULTS = [
  'reset',
  'lost-answer',
  'error-500',
  'slow-down-503',
  'truncate',
  'delay',
] as const
/**
 * - `reset`: the connection is closed before the request reaches the server;
 * - `lost-answer`: the server handles the request, the client never hears back;
 * - `error-500`, `slow-down-503`: the proxy answers an S3 error itself;
 * - `truncate`: the answer's body stops halfway and the connection closes (a body-less
 *   answer is lost instead);
 * - `delay`: the request waits `delayMs`, then goes through.
 */
export type ProxyFault = (typeof PROXY_FAULTS)[number]

export interface ProxyFaultPlan {
  /** Share of requests that meet a fault, drawn from a seeded sequence. */
  readonly rate: number
  /** Faults to inject, in turn (default all). */
  readonly kinds?: readonly ProxyFault[]
  readonly delayMs?: number
}

/** A fault-injecting HTTPS proxy on loopback in front of an S3 server. */
export interface FaultProxy {
  readonly port: number
  /** `https://127.0.0.1:PORT`: use it in place of the server's endpoint. */
  readonly endpoint: string
  /** Changes the faults from the next request on. */
  setFaults(plan: ProxyFaultPlan): void
  /** Requests seen and faults injected, by kind. */
  readonly stats: Readonly<Record<ProxyFault | 'requests', number>>
  /** Faults injected in all. */
  injected(): number
  stop(): Promise<void>
}

/**
 * Starts the proxy with the upstream's TLS key and certificate (clients trust the same CA)
 * and forwards to `https://127.0.0.1:upstreamPort`, Host header unchanged, so that request
 * signatures still verify. Which requests fail is drawn from `seed`: a run repeats (up to
 * the order in which concurrent requests arrive).
 */
export async function startFaultProxy(opts: {
  readonly upstreamPort: number
  readonly key: Buffer
  readonly cert: Buffer
  readonly seed?: string
  readonly faults?: ProxyFaultPlan
}): Promise<FaultProxy> {
  let plan: ProxyFaultPlan = opts.faults ?? { rate: 0 }
  let draws = 0
  const random = (): number => {
    const h = createHash('sha256')
      .update(`${opts.seed ?? 'proxy'}:${draws++}`)
      .digest()
    return h.readUInt32BE(0) / 2 ** 32
  }
  const stats: Record<ProxyFault | 'requests', number> = {
    requests: 0,
    reset: 0,
    'lost-answer': 0,
    'error-500': 0,
    'slow-down-503': 0,
    truncate: 0,
    delay: 0,
  }
  // The proxy's own client: the upstream is the test server, on loopback.
  const agent = new Agent({ keepAlive: true, rejectUnauthorized: false })

  let dealt = 0
  const draw = (): ProxyFault | undefined => {
    if (!(random() < plan.rate)) return undefined
    // Which request meets a fault is drawn; the kind goes round the list, so that a run with
    // as many faults as kinds meets every kind (a draw would miss one now and then).
    const kinds = plan.kinds ?? PROXY_FAULTS
    return kinds[dealt++ % kinds.length]
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.requests++
    const fault = draw()
    if (fault) stats[fault]++
    if (fault === 'reset') {
      req.socket.destroy()
      return
    }
    if (fault === 'error-500' || fault === 'slow-down-503') {
      req.resume()
      await new Promise((r) => req.once('end', r))
      const [status, code] = fault === 'error-500' ? [500, 'InternalError'] : [503, 'SlowDown']
      res.writeHead(status, { 'content-type': 'application/xml' })
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>Injected by the fault proxy.</Message></Error>`,
      )
      return
    }
    if (fault === 'delay') await new Promise((r) => setTimeout(r, plan.delayMs ?? 200))
    const up = request({
      host: '127.0.0.1',
      port: opts.upstreamPort,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    })
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      up.once('response', resolve)
      up.once('error', reject)
    })
    await pipeline(req, up)
    const ur = await answered
    const length = Number(ur.headers['content-length'] ?? 0)
    if (
      fault === 'lost-answer' ||
      (fault === 'truncate' && (req.method === 'HEAD' || !(length > 1)))
    ) {
      ur.resume()
      await new Promise((r) => ur.once('end', r))
      req.socket.destroy()
      return
    }
    res.writeHead(ur.statusCode ?? 502, ur.headers)
    if (fault !== 'truncate') {
      await pipeline(ur, res)
      return
    }
    let budget = Math.floor(length / 2)
    for await (const chunk of ur as AsyncIterable<Buffer>) {
      if (chunk.length >= budget) {
        res.write(chunk.subarray(0, budget))
        break
      }
      res.write(chunk)
      budget -= chunk.length
    }
    ur.destroy()
    // Let the half body leave before the connection drops mid-answer.
    await new Promise<void>((r) => res.socket?.write('', () => r()) ?? r())
    res.socket?.destroy()
  }

  const server = createServer({ key: opts.key, cert: opts.cert }, (req, res) => {
    handle(req, res).catch(() => {
      // A client or upstream that went away mid-request: drop this connection.
      req.socket.destroy()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    endpoint: `https://127.0.0.1:${port}`,
    setFaults: (p) => {
      plan = p
    },
    stats,
    injected: () => PROXY_FAULTS.reduce((n, k) => n + stats[k], 0),
    stop: async () => {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
      agent.destroy()
    },
  }
}
