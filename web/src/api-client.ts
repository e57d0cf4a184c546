import type { LoginResult, Me, Page } from './api-types.js'

/** An error the API answered with (RFC 9457 problem details): `message` is for the user. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** The message to show for any failure: the API's own sentence when there is one. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message
  if (e instanceof TypeError) return 'The Coffer server cannot be reached. Is it running?'
  if (e instanceof Error) return e.message
  return String(e)
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null
}

async function problemOf(res: Response): Promise<ApiError> {
  let body: unknown
  try {
    body = await res.json()
  } catch {
    body = undefined
  }
  if (isRecord(body) && typeof body.detail === 'string')
    return new ApiError(
      res.status,
      typeof body.code === 'string' ? body.code : 'error',
      body.detail,
      typeof body.field === 'string' ? body.field : undefined,
    )
  return new ApiError(res.status, 'http_' + res.status, `The server answered ${res.status}.`)
}

/**
 * The console's only way to the server: JSON over /api with the session cookie. Requests that
 * change something carry the session's CSRF token (the API refuses them without it).
 */
export class ApiClient {
  private csrf: string | undefined

  constructor(private readonly base = '') {}

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (method !== 'GET' && this.csrf) headers['x-csrf-token'] = this.csrf
    const res = await fetch(this.base + path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(signal ? { signal } : {}),
    })
    if (!res.ok) throw await problemOf(res)
    if (res.status === 204) return undefined as T
    return (await res.json()) as T
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, undefined, signal)
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body)
  }

  /** Every item of a paginated list (bounded: lists in the console are short). */
  async all<T>(path: string, maxPages = 20): Promise<T[]> {
    const items: T[] = []
    let cursor: string | null = null
    for (let i = 0; i < maxPages; i++) {
      const sep = path.includes('?') ? '&' : '?'
      const url: string = cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path
      const page: Page<T> = await this.get<Page<T>>(url)
      items.push(...page.items)
      cursor = page.next_cursor
      if (!cursor) break
    }
    return items
  }

  async login(user: string, password: string): Promise<LoginResult> {
    const r = await this.request<LoginResult>('POST', '/api/auth/login', {
      user,
      password,
      cookie: true,
    })
    this.csrf = r.csrf_token
    return r
  }

  /** Who is signed in, or undefined (no session, or it expired). */
  async me(): Promise<Me | undefined> {
    // The session cookie is HttpOnly; its readable CSRF twin says whether one may exist, so a
    // first visit asks nothing (and logs no 401).
    if (typeof document !== 'undefined' && !/(?:^|;\s*)coffer_csrf=/.test(document.cookie))
      return undefined
    try {
      const me = await this.get<Me>('/api/auth/me')
      this.csrf = me.csrf_token
      return me
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return undefined
      throw e
    }
  }

  async logout(): Promise<void> {
    await this.request<undefined>('POST', '/api/auth/logout')
    this.csrf = undefined
  }
}

/** Path pieces: project IDs and branch names may hold characters that need escaping. */
export function p(strings: TemplateStringsArray, ...values: string[]): string {
  return strings.reduce(
    (out, s, i) => out + s + (i < values.length ? encodeURIComponent(values[i]!) : ''),
    '',
  )
}
