import { spawn } from 'node:child_process'
import { chmod, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CofferError } from '../../../errors.js'
import { describeMysqlSource, type MysqlSource } from '../mysql-source.js'

/** The program run for a physical backup (Debian's `mariadb-backup`, also `mariabackup`). */
export const MARIABACKUP = 'mariabackup'

/**
 * Takes a hot physical backup of `databases` into `targetDir` (a new directory on the
 * filesystem of the server's data directory, so that nothing crosses disks), then prepares
 * it for export: afterwards `<targetDir>/<db>/<table>.ibd` is a consistent tablespace and
 * `<table>.cfg` the metadata `ALTER TABLE … IMPORT TABLESPACE` reads (MariaDB manual,
 * "mariadb-backup: Restoring Individual Tables and Partitions").
 *
 * The password goes through a `--defaults-extra-file` of mode 0600 inside `targetDir`'s
 * parent, never on the command line. Rejects with `capture_failed` carrying the tool's last
 * lines of output (which hold no password).
 */
export async function backupAndPrepare(
  source: MysqlSource,
  databases: readonly string[],
  workDir: string,
  signal: AbortSignal,
): Promise<{ targetDir: string; backupMs: number; prepareMs: number }> {
  const targetDir = join(workDir, 'backup')
  const defaults = join(workDir, 'client.cnf')
  const lines = ['[client]', `user=${iniValue(source.user)}`]
  if (source.password) lines.push(`password=${iniValue(source.password)}`)
  if (source.socket) lines.push(`socket=${iniValue(source.socket)}`)
  else lines.push(`host=${iniValue(source.host)}`, `port=${source.port}`)
  await writeFile(defaults, lines.join('\n') + '\n', { mode: 0o600 })
  await chmod(defaults, 0o600)
  try {
    let t = performance.now()
    await run(
      [
        `--defaults-extra-file=${defaults}`,
        '--backup',
        `--databases=${databases.join(' ')}`,
        `--target-dir=${targetDir}`,
      ],
      source,
      signal,
    )
    const backupMs = Math.round(performance.now() - t)
    t = performance.now()
    await run(['--prepare', '--export', `--target-dir=${targetDir}`], source, signal)
    return { targetDir, backupMs, prepareMs: Math.round(performance.now() - t) }
  } finally {
    await rm(defaults, { force: true })
  }
}

/** `mariabackup --version`, first line (it prints on stderr). */
export async function mariabackupVersion(signal: AbortSignal): Promise<string> {
  const out = await run(['--version'], undefined, signal)
  return out.split('\n').find((l) => l.trim() !== '') ?? ''
}

function run(
  args: string[],
  source: MysqlSource | undefined,
  signal: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(MARIABACKUP, args, { stdio: ['ignore', 'pipe', 'pipe'], signal })
    let tail = ''
    const keep = (b: Buffer): void => {
      tail = (tail + b.toString('utf8')).slice(-4000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    child.on('error', (e) => {
      if (signal.aborted) reject(signal.reason as Error)
      else reject(failure(source, `${MARIABACKUP} did not start: ${e.message}`, e))
    })
    child.on('close', (code) => {
      if (signal.aborted) return reject(signal.reason as Error)
      if (code === 0) return resolve(tail)
      const last = tail.trim().split('\n').slice(-3).join(' / ')
      reject(failure(source, `${MARIABACKUP} ${args[1] ?? args[0]} exited with ${code}: ${last}`))
    })
  })
}

function failure(source: MysqlSource | undefined, what: string, cause?: unknown): CofferError {
  const where = source ? ` of ${describeMysqlSource(source)}` : ''
  return new CofferError('capture_failed', `The physical MySQL capture${where} failed: ${what}.`, {
    cause,
  })
}

/** An option value for a MySQL option file, quoted so that `#`, spaces and quotes survive. */
function iniValue(v: string): string {
  return '"' + v.replaceAll('\\', '\\\\').replaceAll('"', '\\"') + '"'
}
