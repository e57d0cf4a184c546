import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
/** The built CLI (run `npm run build` first), as users run it. */
export const BIN = join(ROOT, 'bin', 'coffer')

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface CliOptions {
  readonly env?: NodeJS.ProcessEnv
  readonly input?: string
  readonly cwd?: string
}

/** Environment for a CLI run: no stray COFFER_* from the developer's shell. */
function cleanEnv(extra: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COFFER_')) env[k] = v
  return { ...env, ...extra }
}

/** Runs `coffer ARGS` with pipes (no terminal): what cron and scripts see. */
export function cli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: cleanEnv(opts.env),
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

const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`

/**
 * Runs `coffer ARGS` on a pseudo-terminal (util-linux `script`), stdin, stdout and stderr all
 * on it; `input` is typed into it. Returns what the terminal received, and the exit code.
 */
export function cliOnTerminal(
  args: readonly string[],
  opts: CliOptions = {},
): Promise<{ code: number; screen: string }> {
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: opts.cwd ?? ROOT,
      env: cleanEnv({ ...opts.env, TERM: 'xterm' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => out.push(b))
    child.on('error', reject)
    child.on('close', (code) =>
      resolve({ code: code ?? -1, screen: Buffer.concat(out).toString('utf8') }),
    )
    if (opts.input !== undefined) {
      // Type the answer once the question is on the screen.
      const timer = setInterval(() => {
        if (Buffer.concat(out).toString('utf8').includes('[y/N]')) {
          clearInterval(timer)
          child.stdin.write(opts.input)
        }
      }, 50)
      child.on('close', () => clearInterval(timer))
    }
  })
}

/**
 * The lines a terminal shows at the end, by a small emulation of what the CLI and readline
 * send: carriage return and `ESC[nG` move the cursor in the line, text overwrites,
 * `ESC[K`/`ESC[0J` erase to the end of the line; other sequences are dropped.
 */
export function finalScreen(raw: string): string[] {
  const lines: string[] = []
  let line: string[] = []
  let col = 0
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!
    if (ch === '\n') {
      lines.push(line.join('').trimEnd())
      line = []
      col = 0
    } else if (ch === '\r') col = 0
    else if (ch === '\x1b') {
      // eslint-disable-next-line no-control-regex -- terminal escape sequences
      const m = /^\x1b\[([0-9;]*)([A-Za-z])/.exec(raw.slice(i))
      if (!m) continue
      i += m[0].length - 1
      if (m[2] === 'K' || m[2] === 'J') line = line.slice(0, col)
      else if (m[2] === 'G') col = Math.max(0, Number(m[1] || '1') - 1)
    } else {
      while (line.length < col) line.push(' ')
      line[col++] = ch
    }
  }
  if (line.length > 0) lines.push(line.join('').trimEnd())
  return lines
}

/** A free loopback port (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** Replaces IDs and durations that change from run to run. */
export function mask(text: string, ids: Record<string, string>): string {
  let out = text
  for (const [id, name] of Object.entries(ids)) out = out.replaceAll(id, name)
  return out
    .replace(/\b\d+ secs?\b/g, 'N secs')
    .replace(/\b\d+ ms\b/g, 'N ms')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00/g, 'DATE')
}
