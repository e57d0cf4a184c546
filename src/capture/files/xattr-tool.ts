import { spawn } from 'node:child_process'
import { CofferError } from '../../errors.js'
import type { ExtendedAttribute } from '../../repo/index.js'
import { formatDump, parseDump, type XattrMap } from './xattr-dump.js'

/**
 * Extended attributes through attr's `getfattr` and `setfattr` (Debian package `attr`):
 * Node has no xattr API, and one process per mount (or per batch of paths) costs far less
 * than a native addon's build and upkeep. Paths go to the tools as raw bytes (`xargs -0`
 * reads NUL-separated paths from stdin), so names of any bytes work.
 *
 * Contract: `undefined` means the tools are not installed (the caller logs it once and goes
 * on without attributes); any other failure rejects.
 */

const GETFATTR = ['getfattr', '--dump', '--match=-', '--no-dereference', '--absolute-names']
const ENV = { ...process.env, LC_ALL: 'C' }

let available: Promise<boolean> | undefined

/** xargs's exit status when the command it runs is not installed. */
const XARGS_NOT_FOUND = 127

/** Whether getfattr and setfattr can be run here (checked once per process). */
export function xattrToolsAvailable(): Promise<boolean> {
  available ??= run('getfattr', ['--version'], undefined).then(
    (r) => r.code === 0,
    () => false,
  )
  return available
}

interface RunResult {
  readonly code: number
  readonly stdout: Buffer
  readonly stderr: string
}

function run(
  cmd: string,
  args: readonly string[],
  input: Buffer | undefined,
  signal?: AbortSignal,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: ENV,
      stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      ...(signal ? { signal } : {}),
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (b: Buffer) => out.push(b))
    child.stderr?.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    )
    if (input) {
      child.stdin?.on('error', () => undefined)
      child.stdin?.end(input)
    }
  })
}

/**
 * The extended attributes of every path below `root` (and of `root` itself) that has any,
 * in one walk that does not follow symlinks. Paths are absolute, raw bytes as latin1 keys.
 */
export async function readXattrTree(
  root: Buffer,
  signal?: AbortSignal,
): Promise<XattrMap | undefined> {
  if (available && !(await available)) return undefined
  const r = await run(
    'xargs',
    ['-0', ...GETFATTR, '--recursive', '--physical', '-e', 'base64', '--'],
    Buffer.concat([root, Buffer.from([0])]),
    signal,
  )
  // Not asked first with `getfattr --version`: a process started from a large one costs
  // tens of milliseconds (its memory map is copied). xargs exits 127 when it cannot find
  // the command.
  if (r.code === XARGS_NOT_FOUND) {
    available = Promise.resolve(false)
    return undefined
  }
  // Exit status 1 means some path could not be read (vanished meanwhile): the rest stands.
  if (r.code > 1 && r.code !== 123)
    throw new CofferError('capture_failed', `getfattr failed: ${r.stderr.trim()}`)
  return parseDump(r.stdout)
}

/** The extended attributes of the given paths (those with none are absent from the map). */
export async function readXattrsOf(
  paths: readonly Buffer[],
  signal?: AbortSignal,
): Promise<XattrMap | undefined> {
  if (paths.length === 0) return new Map()
  if (!(await xattrToolsAvailable())) return undefined
  const input = Buffer.concat(paths.flatMap((p) => [p, Buffer.from([0])]))
  const r = await run('xargs', ['-0', ...GETFATTR, '-e', 'base64', '--'], input, signal)
  // xargs exits 123 when getfattr reported a path it could not read (vanished).
  if (r.code !== 0 && r.code !== 123)
    throw new CofferError('capture_failed', `getfattr failed: ${r.stderr.trim()}`)
  return parseDump(r.stdout)
}

/**
 * Sets extended attributes with one `setfattr --restore`. Never follows symlinks. Rejects
 * with the tool's message when an attribute cannot be set (unsupported namespace or
 * filesystem), except that a missing tool rejects with a message naming the package.
 */
export async function writeXattrs(
  entries: readonly { readonly path: Uint8Array; readonly attrs: readonly ExtendedAttribute[] }[],
  signal?: AbortSignal,
): Promise<void> {
  const wanted = entries.filter((e) => e.attrs.length > 0)
  if (wanted.length === 0) return
  if (!(await xattrToolsAvailable()))
    throw new CofferError(
      'restore_failed',
      'The snapshot holds extended attributes but setfattr is not installed (Debian package attr).',
    )
  const r = await run('setfattr', ['--no-dereference', '--restore=-'], formatDump(wanted), signal)
  if (r.code !== 0)
    throw new CofferError(
      'restore_failed',
      `Cannot set extended attributes: ${r.stderr.trim().split('\n')[0] || `setfattr exited with status ${r.code}`}.`,
    )
}
