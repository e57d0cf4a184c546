import { spawn, spawnSync } from 'node:child_process'

export interface Measured {
  readonly seconds: number
  readonly maxRssMb: number
  readonly stdout: string
}

/**
 * Coffer as a user runs it: through bin/coffer's first line, which sets the process's
 * allocator options (docs/OPERATIONS.md, "Memory"); `node bin/coffer` would bypass them.
 */
export const COFFER_CLI = 'bin/coffer'

/**
 * Writes every dirty page out (sync(1)) before a measured command: otherwise a command pays
 * for the write-back of what the one before it wrote (a gigabyte after a restore), and the
 * tool measured second in a step is always the one that pays. Not timed.
 */
export function settleDisk(): void {
  spawnSync('sync')
}

const settlers: (() => Promise<void>)[] = []

/**
 * Also waits for `settle` before every measured command, after `settleDisk`: a bench whose
 * tools write into a database server registers the server's own write-back (server-settle.ts).
 * Returns the function that stops it (before the bench closes what `settle` uses).
 */
export function settleBeforeEachCommand(settle: () => Promise<void>): () => void {
  settlers.push(settle)
  return () => {
    settlers.splice(settlers.indexOf(settle), 1)
  }
}

/**
 * Runs a command under /usr/bin/time to get wall time and peak RSS, after `settleDisk` and
 * the registered settles; fails if it fails.
 */
export async function measure(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): Promise<Measured> {
  settleDisk()
  for (const settle of settlers) await settle()
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn('/usr/bin/time', ['-f', '%M', cmd, ...args], {
      env: { ...process.env, ...env },
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000
      const lines = err.trim().split('\n')
      const kb = Number(lines.at(-1))
      if (code !== 0)
        reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`))
      else resolve({ seconds, maxRssMb: Math.round(kb / 1024), stdout: out })
    })
  })
}

/** Prints rows as a fixed-width table. */
export function printTable(head: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  process.stdout.write(
    `${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`,
  )
}

export const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : '-')
