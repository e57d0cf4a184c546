import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** A free loopback port (the OS picks it; the child binds it right after). */
export async function freePort(): Promise<number> {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const address = s.address()
  const port = typeof address === 'object' && address ? address.port : 0
  s.close()
  await once(s, 'close')
  return port
}

/** Runs a program to its end; rejects with its output when it fails. */
export async function run(cmd: string, args: readonly string[], cwd = ROOT): Promise<string> {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => (out += b.toString()))
  child.stderr.on('data', (b: Buffer) => (out += b.toString()))
  const [code] = (await once(child, 'close')) as [number | null]
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`)
  return out
}

/** Builds the console into `outDir` (its own directory, so parallel runs do not collide). */
export async function buildConsole(outDir: string): Promise<void> {
  await run(process.execPath, [
    join(ROOT, 'node_modules/vite/bin/vite.js'),
    'build',
    'web',
    '--outDir',
    outDir,
    '--emptyOutDir',
    '--logLevel',
    'warn',
  ])
}

export interface CofferProcess {
  readonly url: string
  readonly output: () => string
  stop(): Promise<void>
}

/**
 * `node bin/coffer serve` as a child process — the program users run, built by `npm run
 * build` — on a free loopback port with its own data directory.
 */
export async function startCoffer(opts: {
  dataDir: string
  consoleDir?: string
  adminPassword: string
  extraArgs?: readonly string[]
  /** More environment variables for the process (over this one's). */
  env?: Readonly<Record<string, string>>
}): Promise<CofferProcess> {
  if (!existsSync(join(ROOT, 'dist/cli/main.js')))
    throw new Error('dist/ is missing: run `npm run build` before the console tests.')
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/coffer'),
      'serve',
      '--data-dir',
      opts.dataDir,
      '--listen',
      `127.0.0.1:${port}`,
      '--log-level',
      'warn',
      ...(opts.consoleDir ? ['--console-dir', opts.consoleDir] : []),
      ...(opts.extraArgs ?? []),
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        COFFER_ADMIN_PASSWORD: opts.adminPassword,
        COFFER_TEST_FAST_KDF: '1',
        COFFER_TEST_POLL_MS: '100',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()))
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()))
  const exited = once(child, 'exit')
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`coffer serve exited:\n${out}`)
    try {
      const r = await fetch(`${url}/healthz`)
      if (r.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`coffer serve did not start:\n${out}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await exited
      }
    },
  }
}

/** A small JSON client of the API for the tests' setup (bearer token). */
export class Api {
  constructor(
    readonly url: string,
    private token?: string,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(this.url + path, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return text ? (JSON.parse(text) as unknown) : undefined
  }

  async login(user: string, password: string): Promise<void> {
    const r = (await this.call('POST', '/api/auth/login', { user, password })) as { token: string }
    this.token = r.token
  }
}
