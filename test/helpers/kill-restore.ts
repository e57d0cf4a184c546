import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type mysql from 'mysql2/promise'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const ENTRY = fileURLToPath(new URL('../../src/cli/entry.ts', import.meta.url))

/** Side databases (staging, trash) of `db` that exist now. */
export async function sideDatabasesOf(admin: mysql.Connection, db: string): Promise<string[]> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>(
    'SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
    [`${db.replaceAll('_', '\\_')}\\_\\_coffer\\_%`],
  )
  return rows.map((r) => String(r.n))
}

/**
 * Where to kill a CLI run: when it prints a phase line on stderr (`…: <phase>`, what
 * repo:restore prints without --json), or as soon as `when` resolves true (polled without
 * pause while the run lasts).
 */
export type KillPoint = { readonly phase: string } | { readonly when: () => Promise<boolean> }

/**
 * Runs the CLI from source in a child process (as runCoffer) and sends it SIGKILL at
 * `point`. Resolves once the process is gone, with the signal that ended it (null: it
 * exited on its own before the point came) and its stderr.
 */
export async function runCofferUntilKilled(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  point: KillPoint,
): Promise<{ readonly signal: NodeJS.Signals | null; readonly stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: ROOT,
    env,
    stdio: 'pipe',
  })
  const exited = gone(child)
  let killed = false
  const kill = (): void => {
    if (killed) return
    killed = true
    child.kill('SIGKILL')
  }
  let stderr = ''
  child.stdout.resume()
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString()
    if ('phase' in point && stderr.includes(`: ${point.phase}\n`)) kill()
  })
  if ('when' in point)
    while (!killed && child.exitCode === null) {
      if (await point.when()) kill()
      else await new Promise((r) => setImmediate(r))
    }
  await exited
  return { signal: child.signalCode, stderr }
}

/** Resolves when `child` is gone (killed or exited). */
const gone = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('close', () => resolve())
  })
