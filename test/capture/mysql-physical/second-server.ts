import { execFile, spawn } from 'node:child_process'
import { chmod, chown, mkdir, readdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import mysql from 'mysql2/promise'

const run = promisify(execFile)

/** A throwaway MariaDB server of this host, started by a test as a restore target. */
export interface SecondServer {
  /** `mysql://root@127.0.0.1:<port>`: root without a password, over loopback TCP. */
  readonly url: string
  readonly port: number
  readonly socket: string
  /** Its data directory, with the trailing `/` the server reports. */
  readonly datadir: string
  /** An admin connection (multiple statements allowed, for fixtures). */
  connect(): Promise<mysql.Connection>
  /** Kills it (kill -9: its data is scratch) and waits until it is gone. */
  stop(): Promise<void>
}

/**
 * Starts the host's `mariadbd` on a new data directory under `dir` (initialised by
 * `mariadb-install-db`, root without a password), with its own socket and a free loopback
 * TCP port; `args` are more server options (`--innodb-page-size=8k`, …). As root it runs as
 * `mysql`, so `dir` is made traversable for that user. Remove `dir` after `stop`.
 */
export async function startSecondServer(
  dir: string,
  args: readonly string[] = [],
): Promise<SecondServer> {
  const datadir = join(dir, 'data')
  const socket = join(dir, 'mysqld.sock')
  // A temporary directory of its own: two servers bootstrapped at once in the shared /tmp
  // were seen to lose each other's temporary tables ("Could not remove temporary table",
  // then the bootstrap aborts).
  const tmpdir = join(dir, 'tmp')
  await mkdir(tmpdir, { recursive: true })
  await chmod(dir, 0o755)
  const asRoot = process.getuid?.() === 0
  const user = asRoot ? ['--user=mysql'] : []
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'mysql'])).stdout)
    const gid = Number((await run('id', ['-g', 'mysql'])).stdout)
    await chown(dir, uid, gid)
    await chown(tmpdir, uid, gid)
  }
  const pageSize = args.filter((a) => a.startsWith('--innodb-page-size='))
  await run('mariadb-install-db', [
    '--no-defaults',
    ...user,
    `--datadir=${datadir}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    `--tmpdir=${tmpdir}`,
    ...pageSize,
  ])
  const port = await freePort()
  const child = spawn(
    '/usr/sbin/mariadbd',
    [
      '--no-defaults',
      ...user,
      `--datadir=${datadir}`,
      `--socket=${socket}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--tmpdir=${tmpdir}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--innodb-log-file-size=16M',
      '--innodb-buffer-pool-size=64M',
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let output = ''
  child.stderr.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-2000)))
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  let gone = false
  void exited.then(() => (gone = true))
  const connect = (): Promise<mysql.Connection> =>
    mysql.createConnection({
      host: '127.0.0.1',
      port,
      user: 'root',
      multipleStatements: true,
      timezone: 'Z',
    })
  const stop = async (): Promise<void> => {
    if (!gone) child.kill('SIGKILL')
    await exited
  }
  for (const started = Date.now(); ;) {
    if (gone) throw new Error(`the second server did not start: ${output}`)
    const c = await connect().catch(() => undefined)
    if (c) {
      await c.end()
      break
    }
    if (Date.now() - started > 60_000) {
      await stop()
      throw new Error(`the second server did not accept connections: ${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url: `mysql://root@127.0.0.1:${port}`,
    port,
    socket,
    datadir: datadir + '/',
    connect,
    stop,
  }
}

/** A loopback TCP port nobody listens on now (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address ? address.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Processes whose command line holds `needle` (a private server's scratch directory name),
 * read from /proc: what a test checks is left after a restore.
 */
export async function processesWith(needle: string): Promise<number[]> {
  const out: number[] = []
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (cmd.includes(needle)) out.push(Number(pid))
  }
  return out
}
