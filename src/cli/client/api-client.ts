import { CofferError, ERROR_CODES, type ErrorCode } from '../../errors.js'
import { ConnectionError } from './client-errors.js'

/** One Server-Sent Event of an activity stream. */
export interface SseEvent {
  readonly event: string
  readonly data: string
  readonly id: string | undefined
}

export interface RequestOptions {
  readonly body?: unknown
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>
  readonly signal?: AbortSignal
  /** Sign-in sends no token. */
  readonly anonymous?: boolean
}

const NOT_SIGNED_IN =
  'You are not signed in: run coffer auth:login --url URL --user NAME, or set COFFER_URL and COFFER_TOKEN.'

/**
 * The REST API as the CLI sees it: JSON in and out, bearer token, RFC 9457 problem details
 * turned into CofferError with the server's code and its exact `detail`, so the user reads
 * the server's sentence and a script gets the shared exit code. The token is sent only in
 * the Authorization header and never appears in a message.
 */
export class ApiClient {
  readonly url: string
  readonly #token: string | undefined
  readonly #trace: ((line: string) => void) | undefined

  /** `trace` (`--verbose`) is told each request: method, path, status and time taken. */
  constructor(url: string | undefined, token: string | undefined, trace?: (line: string) => void) {
    if (!url) throw new CofferError('unauthenticated', NOT_SIGNED_IN)
    this.url = url.replace(/\/+$/, '')
    this.#token = token
    this.#trace = trace
  }

  get signedIn(): boolean {
    return this.#token !== undefined
  }

  /** Calls the API; resolves to the parsed JSON body (undefined for 204). */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<unknown> {
    const res = await this.#fetch(method, path, opts, 'application/json')
    const text = await res.text()
    if (!res.ok) throw problemError(res.status, text)
    if (text === '') return undefined
    try {
      return JSON.parse(text) as unknown
    } catch {
      throw new CofferError('internal', `The server's answer to ${method} ${path} is not JSON.`)
    }
  }

  /** Every item of a paginated list (`{ items, next_cursor }`). */
  async all(path: string, opts: RequestOptions = {}): Promise<unknown[]> {
    const items: unknown[] = []
    let cursor: string | undefined
    for (;;) {
      const page = await this.request('GET', path, {
        ...opts,
        query: { ...opts.query, ...(cursor ? { cursor } : {}) },
      })
      const p = page as { items?: unknown; next_cursor?: unknown }
      if (!Array.isArray(p.items)) throw new CofferError('internal', `${path} returned no list.`)
      items.push(...(p.items as unknown[]))
      if (typeof p.next_cursor !== 'string') return items
      cursor = p.next_cursor
    }
  }

  /** Server-Sent Events from `path` until the server ends the stream or `signal` fires. */
  async *events(path: string, opts: RequestOptions = {}): AsyncGenerator<SseEvent> {
    const res = await this.#fetch('GET', path, opts, 'text/event-stream')
    if (!res.ok) throw problemError(res.status, await res.text())
    if (!res.body) return
    const decoder = new TextDecoder()
    let buffer = ''
    let event = 'message'
    let data: string[] = []
    let id: string | undefined
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true })
      let nl: number
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '')
        buffer = buffer.slice(nl + 1)
        // WHATWG HTML, "Interpreting an event stream": a blank line dispatches the event.
        if (line === '') {
          if (data.length > 0) yield { event, data: data.join('\n'), id }
          event = 'message'
          data = []
          continue
        }
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon < 0 ? line : line.slice(0, colon)
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'event') event = value
        else if (field === 'data') data.push(value)
        else if (field === 'id') id = value
      }
    }
  }

  async #fetch(
    method: string,
    path: string,
    opts: RequestOptions,
    accept: string,
  ): Promise<Response> {
    if (!opts.anonymous && this.#token === undefined)
      throw new CofferError('unauthenticated', NOT_SIGNED_IN)
    const query = Object.entries(opts.query ?? {}).filter(([, v]) => v !== undefined)
    const qs = query.length
      ? `?${new URLSearchParams(query.map(([k, v]): [string, string] => [k, String(v)])).toString()}`
      : ''
    const headers: Record<string, string> = { accept }
    if (!opts.anonymous && this.#token) headers.authorization = `Bearer ${this.#token}`
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    const started = performance.now()
    const took = (): string => `${Math.round(performance.now() - started)} ms`
    try {
      const res = await fetch(`${this.url}${path}${qs}`, {
        method,
        headers,
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      })
      this.#trace?.(`> ${method} ${this.url}${path}${qs} ${res.status} (${took()})`)
      return res
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason
      const reason = connectReason(e)
      this.#trace?.(`> ${method} ${this.url}${path}${qs} failed: ${reason} (${took()})`)
      throw new ConnectionError(this.url, reason, { cause: e })
    }
  }
}

/** Why fetch failed, in a few words (undici hides the system error in `cause`). */
function connectReason(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  if (cause && typeof cause.code === 'string') {
    const known: Record<string, string> = {
      ECONNREFUSED: 'connection refused',
      ENOTFOUND: 'unknown host',
      ECONNRESET: 'connection reset',
      ETIMEDOUT: 'timed out',
      EHOSTUNREACH: 'host unreachable',
    }
    return known[cause.code] ?? cause.code
  }
  if (e instanceof TypeError && /invalid url/i.test(e.message)) return 'not a valid URL'
  return cause && typeof cause.message === 'string' ? cause.message : 'no answer'
}

const FALLBACK: Record<number, ErrorCode> = {
  400: 'invalid_input',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  429: 'throttled',
}

/** A problem-details body as a CofferError carrying the server's own code and sentence. */
export function problemError(status: number, text: string): CofferError {
  let body: unknown
  try {
    body = JSON.parse(text) as unknown
  } catch {
    body = undefined
  }
  const p = (body ?? {}) as { code?: unknown; detail?: unknown }
  const known = (ERROR_CODES as readonly string[]).includes(String(p.code))
  const code: ErrorCode = known ? (p.code as ErrorCode) : (FALLBACK[status] ?? 'backend')
  const detail =
    typeof p.detail === 'string' && p.detail !== ''
      ? p.detail
      : `The server answered with HTTP status ${status}.`
  return new CofferError(code, detail)
}
