import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const ENTRY = fileURLToPath(new URL('../../src/cli/entry.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** A `coffer serve` or `coffer worker` running as a real child process. */
export interface CofferProcess {
  readonly child: ChildProcess
  /** Everything it wrote to stdout and stderr so far (JSON log lines, messages). */
  output(): string
  /** SIGTERM, then waits for the exit; returns the exit code (null when killed by a signal). */
  stop(): Promise<number | null>
  /** SIGKILL, then waits for the exit. */
  kill9(): Promise<void>
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  const srv = createServer()
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const addr = srv.address()
  srv.close()
  if (!addr || typeof addr === 'string') throw new Error('no port')
  return addr.port
}

/**
 * Starts the CLI from source (the same code `npm run build` compiles) with `args`, cheap KDFs
 * and fast polling. The caller waits for readiness itself (`waitHealthy` for serve).
 */
export function startCofferProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): CofferProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      COFFER_TEST_FAST_KDF: '1',
      COFFER_TEST_POLL_MS: '50',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const chunks: Buffer[] = []
  child.stdout?.on('data', (b: Buffer) => chunks.push(b))
  child.stderr?.on('data', (b: Buffer) => chunks.push(b))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    child,
    output: () => Buffer.concat(chunks).toString('utf8'),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited
    },
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}

/** Polls `url`/healthz until it answers 200; fails early when the process has exited. */
export async function waitHealthy(
  url: string,
  proc: CofferProcess,
  timeoutMs = 45_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (proc.child.exitCode !== null)
      throw new Error(`coffer exited with ${proc.child.exitCode}:\n${proc.output()}`)
    try {
      const r = await fetch(`${url}/healthz`)
      if (r.status === 200) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`coffer not healthy:\n${proc.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Waits until `proc` has printed `text` (a worker's "started" line); fails early on exit. */
export async function waitForOutput(
  proc: CofferProcess,
  text: string,
  timeoutMs = 45_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!proc.output().includes(text)) {
    if (proc.child.exitCode !== null)
      throw new Error(`coffer exited with ${proc.child.exitCode}:\n${proc.output()}`)
    if (Date.now() > deadline) throw new Error(`coffer never printed ${text}:\n${proc.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** What `apiCall` got back: status, body text, and the body parsed ({} when empty). */
export interface ApiReply {
  readonly status: number
  readonly text: string
  readonly json: Record<string, unknown>
}

/** One JSON request to a Coffer process's API, with a bearer token when one is given. */
export async function apiCall(
  baseUrl: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiReply> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  return {
    status: res.status,
    text,
    json: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  }
}
