import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import {
  startServe,
  type RunningCoffer,
  type ServeOptions,
} from '../../src/cli/commands/server-runtime.js'
import { TEST_PASSWORD_COST } from '../../src/control/index.js'
import { TEST_KDF } from '../../src/repo/index.js'
import type { StoreDialect } from '../../src/store/index.js'
import { dropSchema, TEST_POSTGRES_URL, testSchemaName } from './test-store.js'
import { makeTempDir } from './tmp-dir.js'

export const ADMIN_PASSWORD = 'admin-password-Zq81'

/** A clock tests move by hand (STYLE.md: time comes from `now`). */
export class TestClock {
  constructor(public t = new Date('2026-03-08T17:07:01.000Z')) {}
  readonly now = (): Date => new Date(this.t)
  advance(ms: number): void {
    this.t = new Date(this.t.getTime() + ms)
  }
  set(iso: string): void {
    this.t = new Date(iso)
  }
}

export interface ApiResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** Parsed JSON body (`unknown`: tests narrow it). */
  readonly json: unknown
}

/** Collects everything that could leak a secret: log lines and response bodies. */
export class LeakWatch {
  readonly secrets = new Set<string>()
  readonly texts: string[] = []

  add(secret: string | undefined): void {
    if (secret && secret.length >= 6) this.secrets.add(secret)
  }

  /** Secrets found in the recorded texts (empty when nothing leaked). */
  leaks(): { secret: string; where: string }[] {
    const found: { secret: string; where: string }[] = []
    for (const s of this.secrets)
      for (const t of this.texts)
        if (t.includes(s)) found.push({ secret: s.slice(0, 4) + '…', where: t.slice(0, 300) })
    return found
  }
}

export interface TestServer {
  readonly url: string
  readonly coffer: RunningCoffer
  readonly clock: TestClock
  readonly dataDir: string
  readonly dir: string
  readonly watch: LeakWatch
  readonly logs: string[]
  call(
    method: string,
    path: string,
    opts?: {
      token?: string
      body?: unknown
      headers?: Record<string, string>
      /** The response hands out a secret by design (sign-in, new token): not leak-checked. */
      issuesSecret?: boolean
    },
  ): Promise<ApiResponse>
  /** Signs in and returns a bearer token. */
  login(user: string, password: string): Promise<string>
  /** Polls an activity until it has finished (or reached one of `until`); returns its JSON. */
  waitActivity(
    project: string,
    id: string,
    token: string,
    timeoutMs?: number,
    until?: readonly string[],
  ): Promise<Record<string, unknown>>
  stop(): Promise<void>
}

/**
 * Starts a real server in this process (port 0, its own data directory, its own SQLite file
 * or PostgreSQL schema), with cheap KDFs and a hand-moved clock. Every log line and response
 * body is kept for the leak check.
 */
export async function startTestServer(
  dialect: StoreDialect,
  label: string,
  extra: Partial<ServeOptions> = {},
): Promise<TestServer> {
  const tmp = await makeTempDir(`api-${label}`)
  const dataDir = join(tmp.path, 'data')
  const clock = new TestClock()
  const logs: string[] = []
  const watch = new LeakWatch()
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const line = chunk.toString('utf8')
      logs.push(line)
      watch.texts.push(line)
      cb()
    },
  })
  const schema = dialect === 'postgres' ? testSchemaName(label) : undefined
  const coffer = await startServe({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    ...(schema ? { store: TEST_POSTGRES_URL, storeSchema: schema } : {}),
    adminPassword: ADMIN_PASSWORD,
    repoKdf: TEST_KDF,
    passwordCost: TEST_PASSWORD_COST,
    pollMs: 50,
    schedulerIntervalMs: 3_600_000,
    deliveryIntervalMs: 3_600_000,
    now: clock.now,
    logDestination: destination,
    ...extra,
  })
  watch.add(ADMIN_PASSWORD)
  watch.add((await readFile(join(dataDir, 'master.key'), 'utf8').catch(() => '')).trim())
  const call: TestServer['call'] = async (method, path, opts = {}) => {
    const res = await fetch(coffer.url + path, {
      method,
      headers: {
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    })
    const text = await res.text()
    if (!opts.issuesSecret) watch.texts.push(text)
    let json: unknown
    try {
      json = text ? (JSON.parse(text) as unknown) : undefined
    } catch {
      json = undefined
    }
    return { status: res.status, headers: res.headers, text, json }
  }
  const login = async (user: string, password: string): Promise<string> => {
    const r = await call('POST', '/api/auth/login', {
      body: { user, password },
      issuesSecret: true,
    })
    if (r.status !== 200) throw new Error(`login ${user}: ${r.status} ${r.text}`)
    const token = (r.json as { token: string }).token
    watch.add(token)
    return token
  }
  /**
   * What every project the token sees was doing (running activities with their logs) and the
   * server's last log lines: what a test that waited in vain says, so a hang can be read.
   */
  const describeWork = async (token: string): Promise<string> => {
    const out: string[] = []
    const projects = await call('GET', '/api/projects?limit=100', { token })
    for (const p of (projects.json as { items?: { id: string }[] }).items ?? []) {
      const list = await call('GET', `/api/projects/${p.id}/activities?limit=30`, { token })
      for (const x of (list.json as { items?: Record<string, unknown>[] }).items ?? []) {
        out.push(
          `${p.id} ${String(x.id)} ${String(x.type)} ${String(x.environment)} ${String(x.state)}`,
        )
        if (x.state !== 'in_progress') continue
        const log = await call('GET', `/api/projects/${p.id}/activities/${String(x.id)}/log`, {
          token,
        })
        out.push(`  log: ${log.text}`)
      }
    }
    const lines = logs.filter((l) => !l.includes('"msg":"request"')).slice(-40)
    return `${out.join('\n')}\nthe server's last log lines but requests:\n${lines.join('')}`
  }
  const waitActivity: TestServer['waitActivity'] = async (
    project,
    id,
    token,
    timeoutMs = 30_000,
    until = ['complete', 'cancelled'],
  ) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const r = await call('GET', `/api/projects/${project}/activities/${id}`, { token })
      // A refusal (expired token, no access) will not change by waiting: fail now.
      if (r.status !== 200) throw new Error(`activity ${id}: ${r.status} ${r.text}`)
      const a = r.json as Record<string, unknown>
      if (until.includes(String(a.state))) return a
      if (a.state === 'complete' || a.state === 'cancelled')
        throw new Error(`activity ${id} finished before reaching ${until.join('/')}`)
      if (Date.now() > deadline)
        throw new Error(`activity ${id} still ${String(a.state)}\n${await describeWork(token)}`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
  return {
    url: coffer.url,
    coffer,
    clock,
    dataDir,
    dir: tmp.path,
    watch,
    logs,
    call,
    login,
    waitActivity,
    stop: async () => {
      await coffer.stop(5_000)
      if (schema) await dropSchema(schema)
      await tmp.cleanup()
    },
  }
}
