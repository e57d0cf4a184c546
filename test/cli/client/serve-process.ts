import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import { BIN, cli, freePort, type CliOptions, type CliResult } from './cli-process.js'

export const ADMIN_PASSWORD = 'admin-password-Cl19'

/** A real `coffer serve` child process on a free loopback port, with its own data dir. */
export interface ServeProcess {
  readonly url: string
  readonly dir: string
  /** Runs the CLI against this server with its own config home (`XDG_CONFIG_HOME`). */
  run(args: readonly string[], opts?: CliOptions & { home?: string }): Promise<CliResult>
  /** Environment for a CLI run as the user signed in under `home`. */
  envFor(home?: string): NodeJS.ProcessEnv
  stop(): Promise<void>
}

export async function startServe(
  label: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ServeProcess> {
  const tmp = await makeTempDir(`cli-${label}`)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child: ChildProcess = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--data-dir',
      join(tmp.path, 'data'),
      '--listen',
      `127.0.0.1:${port}`,
      '--log-level',
      'warn',
    ],
    {
      env: {
        ...process.env,
        COFFER_ADMIN_PASSWORD: ADMIN_PASSWORD,
        COFFER_TEST_FAST_KDF: '1',
        COFFER_TEST_POLL_MS: '50',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let log = ''
  child.stderr?.on('data', (b: Buffer) => (log += b.toString('utf8')))
  const deadline = Date.now() + 30_000
  for (;;) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`coffer serve did not start: ${log}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  const envFor = (home = 'admin'): NodeJS.ProcessEnv => ({
    XDG_CONFIG_HOME: join(tmp.path, 'homes', home),
  })
  return {
    url,
    dir: tmp.path,
    envFor,
    run: (args, opts = {}) => cli(args, { ...opts, env: { ...envFor(opts.home), ...opts.env } }),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await once(child, 'exit')
      }
      await tmp.cleanup()
    },
  }
}
