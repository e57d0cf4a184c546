import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface CofferRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MAIN = fileURLToPath(new URL('../../src/cli/entry.ts', import.meta.url))

/**
 * Runs the CLI from source in a child process (so exit codes, stdout and stderr are the real
 * ones) with no terminal attached.
 */
export function runCoffer(
  args: readonly string[],
  opts: {
    env?: NodeJS.ProcessEnv
    input?: string | Buffer
    cwd?: string
    /** A command that runs Node for it, with its arguments (`['prlimit', '--fsize=N']`). */
    under?: readonly string[]
  } = {},
): Promise<CofferRun> {
  return new Promise((resolve, reject) => {
    const node = [process.execPath, '--import', 'tsx', MAIN, ...args]
    const [cmd, ...rest] = [...(opts.under ?? []), ...node]
    const child = spawn(cmd!, rest, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    )
    child.stdin.end(opts.input)
  })
}
