import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { chmod, chown, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CofferError } from '../../../errors.js'
import { processAlive, type Logger } from '../../../lib/index.js'
import type { MysqlSource } from '../mysql-source.js'
import { cellText, openSession, openSessions, type MysqlSession } from '../session.js'

const run = promisify(execFile)

/** Names of the scratch directories: `<prefix><pid of the Coffer process>-<random>`. */
const SCRATCH_PREFIX = 'coffer-mariadbd-'

/**
 * Room a fresh private server takes before any table: the system tablespace (12 MiB), the
 * temporary tablespace (12 MiB), the redo log (REDO_LOG) and Aria's log, rounded up.
 */
export const PRIVATE_SERVER_BYTES = 64 * 1024 * 1024
const REDO_LOG = '32M'

/** How long a private server may take to accept connections. */
const START_TIMEOUT_MS = 60_000

/**
 * Kills the server and removes its scratch directory when its standard input closes: when
 * `stop` ends it, and when the Coffer process dies however it dies (kill -9 included), since
 * the kernel closes the pipe then. `$1` is the scratch directory, the rest the server's
 * command line; the server's pid goes to standard output first.
 */
const WATCHDOG = `dir=$1; shift
"$@" </dev/null &
pid=$!
echo "$pid"
read -r _ || :
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rm -rf -- "$dir"`

/** What a private server runs: which binary, with which pages, where. */
export interface PrivateServerOptions {
  /** The `mariadbd` binary; default: found on PATH, else /usr/sbin/mariadbd. */
  readonly mariadbd?: string
  /** `innodb_page_size` of the tablespaces it will import. */
  readonly innodbPageSize: number
  /** The directory its scratch directory is made in (mode 0700, removed by `stop`). */
  readonly scratchParent: string
  /** Sessions to open on it. */
  readonly connections: number
  readonly signal: AbortSignal
  readonly log: Logger
}

/**
 * A throwaway MariaDB server of this host, for the logical fallback of a physical restore
 * (docs/PHYSICAL.md, "Logical fallback"): `--no-defaults`, its data directory a new scratch
 * directory (InnoDB initialises it on the first start; no grant tables, `--skip-grant-tables`),
 * no network (`--skip-networking`), a socket in the scratch directory, the snapshot's
 * `innodb_page_size`, and `--user` when this process runs as root. `stop` kills it and
 * removes the scratch directory; so does the death of this process (a watchdog shell).
 *
 * Not for concurrent `stop` calls; `stop` is idempotent.
 */
export class PrivateServer {
  private stopped: Promise<void> | undefined

  private constructor(
    private readonly watchdog: ChildProcess,
    private readonly exited: Promise<void>,
    /** Its version string (`SELECT VERSION()`). */
    readonly version: string,
    /** Its data directory. */
    readonly datadir: string,
    /** Where to connect (a Unix socket; user root, no password). */
    readonly source: MysqlSource,
    /** Open sessions, with the restore's settings still to be applied by the caller. */
    readonly sessions: readonly MysqlSession[],
  ) {}

  /**
   * Starts a private server and opens its sessions. Rejects with `restore_failed` naming
   * the binary and the server's last lines of output when it does not start, and with the
   * signal's reason when aborted; nothing is left behind either way. Scratch directories of
   * dead Coffer processes in `scratchParent` are removed first.
   */
  static async start(opts: PrivateServerOptions): Promise<PrivateServer> {
    const binary = (await probeMariadbd(opts.mariadbd)).file
    await removeStaleScratch(opts.scratchParent, opts.log)
    const scratch = await mkdtemp(join(opts.scratchParent, `${SCRATCH_PREFIX}${process.pid}-`))
    await chmod(scratch, 0o700)
    const datadir = join(scratch, 'data')
    const socket = join(scratch, 'mysqld.sock')
    const args = [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${socket}`,
      `--pid-file=${join(scratch, 'mysqld.pid')}`,
      `--tmpdir=${scratch}`,
      '--skip-networking',
      '--skip-grant-tables',
      `--innodb-page-size=${opts.innodbPageSize}`,
      `--innodb-log-file-size=${REDO_LOG}`,
      '--innodb-file-per-table=1',
    ]
    try {
      await mkdir(datadir, { mode: 0o700 })
      const user = await serverUser()
      if (user) {
        args.push(`--user=${user.name}`)
        await chown(scratch, user.uid, user.gid)
        await chown(datadir, user.uid, user.gid)
      }
    } catch (e) {
      await rm(scratch, { recursive: true, force: true })
      throw e
    }
    const child = spawn('sh', ['-c', WATCHDOG, 'coffer-mariadbd', scratch, binary, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
    let output = ''
    child.stderr?.on('data', (b: Buffer) => {
      output = (output + b.toString('utf8')).slice(-4000)
    })
    let pidLine = ''
    child.stdout?.on('data', (b: Buffer) => (pidLine += b.toString('utf8')))
    // A spawn error (no `sh`) closes the child too; its message is the output to show.
    child.once('error', (e) => (output += e.message))
    const source: MysqlSource = {
      host: 'localhost',
      port: 0,
      socket,
      user: 'root',
      password: '',
      databases: [],
      exclude: [],
      includeTables: [],
      connections: opts.connections,
    }
    const sessions: MysqlSession[] = []
    const stopNow = async (): Promise<void> => {
      for (const s of sessions) s.destroy()
      child.stdin?.end()
      await exited
    }
    try {
      const first = await waitUntilReady(source, () => pidLine, exited, opts.signal)
      sessions.push(first)
      sessions.push(...(await openSessions(source, opts.connections - 1)))
      const version = cellText((await first.query('SELECT VERSION()'))[0]?.[0])
      opts.log.info({ binary, version, datadir }, 'private MariaDB server started')
      return new PrivateServer(child, exited, version, datadir, source, sessions)
    } catch (e) {
      await stopNow()
      if (opts.signal.aborted) throw opts.signal.reason
      throw new CofferError(
        'restore_failed',
        `The private MariaDB server (${binary}) for the logical fallback did not start: ${lastLines(output) || (e instanceof Error ? e.message : String(e))}`,
        { cause: e },
      )
    }
  }

  /** Kills the server (its data is scratch) and waits until its directory is removed. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      for (const s of this.sessions) s.destroy()
      this.watchdog.stdin?.end()
      await this.exited
    })()
    return this.stopped
  }
}

/** Where `mariadbd` is looked for when none is named: PATH, then Debian's sbin. */
const MARIADBD_CANDIDATES = ['mariadbd', '/usr/sbin/mariadbd'] as const

/**
 * The MariaDB server binary to run and its version (`mariadbd --version`:
 * `mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu …`): `binary`, or the first
 * of MARIADBD_CANDIDATES that runs (sbin is not on every PATH). Rejects with
 * `restore_failed` when it does not run or is not MariaDB's.
 */
export async function probeMariadbd(
  binary?: string,
): Promise<{ readonly file: string; readonly version: string }> {
  const files = binary !== undefined ? [binary] : MARIADBD_CANDIDATES
  let failure: unknown
  for (const file of files) {
    let out: string
    try {
      out = (await run(file, ['--version'], { timeout: 30_000 })).stdout
    } catch (e) {
      failure = e
      continue
    }
    const m = /\bVer\s+(\S+)/.exec(out)
    if (!m || !/mariadb/i.test(m[1]!))
      throw new CofferError(
        'restore_failed',
        `${file} is not a MariaDB server binary (its --version says: ${out.trim().slice(0, 200)}).`,
      )
    return { file, version: m[1]! }
  }
  const why = (failure as { code?: unknown }).code === 'ENOENT' ? 'not found' : String(failure)
  throw new CofferError(
    'restore_failed',
    `The MariaDB server binary (${files.join(', ')}) for a private server does not run: ${why}.`,
    { cause: failure },
  )
}

/**
 * The account the server runs as when this process is root (mariadbd refuses root without
 * `--user`): `mysql`, the Debian package's, else root itself. None otherwise.
 */
async function serverUser(): Promise<{ name: string; uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined
  try {
    const uid = Number((await run('id', ['-u', 'mysql'])).stdout.trim())
    const gid = Number((await run('id', ['-g', 'mysql'])).stdout.trim())
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { name: 'mysql', uid, gid }
  } catch {
    // No mysql account: run as root, which --user=root allows explicitly.
  }
  return { name: 'root', uid: 0, gid: 0 }
}

/** Connects once the server accepts connections; rejects when it exits first or times out. */
async function waitUntilReady(
  source: MysqlSource,
  pidLine: () => string,
  exited: Promise<void>,
  signal: AbortSignal,
): Promise<MysqlSession> {
  let gone = false
  void exited.then(() => (gone = true))
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    signal.throwIfAborted()
    if (gone) throw new Error('the watchdog exited')
    const pid = Number(pidLine().trim())
    if (pid > 0 && !processAlive(pid)) throw new Error('the server exited')
    if (pid > 0) {
      const s = await openSession(source).catch(() => undefined)
      if (s) return s
    }
    if (Date.now() > deadline)
      throw new Error(`it did not accept connections within ${START_TIMEOUT_MS / 1000} s`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * Removes scratch directories whose Coffer process is gone (its watchdog removes them, but
 * not when it was killed together with it, e.g. by a signal to the whole process group).
 */
async function removeStaleScratch(parent: string, log: Logger): Promise<void> {
  const names = await readdir(parent).catch(() => [] as string[])
  for (const name of names) {
    const m = new RegExp(`^${SCRATCH_PREFIX}(\\d+)-`).exec(name)
    if (!m || processAlive(Number(m[1]))) continue
    await rm(join(parent, name), { recursive: true, force: true })
    log.info({ dir: join(parent, name) }, 'stale private server directory removed')
  }
}

/** The server's last lines of output: the ones that say why it stopped. */
function lastLines(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
  return lines.slice(-4).join(' / ')
}
