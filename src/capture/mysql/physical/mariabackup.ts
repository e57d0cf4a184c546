import { spawn } from 'node:child_process'
import { chmod, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CofferError } from '../../../errors.js'
import { describeMysqlSource, type MysqlSource } from '../mysql-source.js'

/** The program run for a physical backup (Debian's `mariadb-backup`, also `mariabackup`). */
export const MARIABACKUP = 'mariabackup'

/**
 * The `mariabackup` runs of one capture, all inside `workDir` (a new directory on the
 * filesystem of the server's data directory, so that nothing crosses disks). The password
 * goes through a `--defaults-extra-file` of mode 0600 in `workDir`, never on the command
 * line; `close` removes it. Every run rejects with `capture_failed` carrying the tool's last
 * lines of output (which hold no password), or with the signal's reason when aborted.
 */
export class Mariabackup {
  private constructor(
    private readonly source: MysqlSource,
    private readonly defaults: string,
  ) {}

  static async open(source: MysqlSource, workDir: string): Promise<Mariabackup> {
    const defaults = join(workDir, 'client.cnf')
    const lines = ['[client]', `user=${iniValue(source.user)}`]
    if (source.password) lines.push(`password=${iniValue(source.password)}`)
    if (source.socket) lines.push(`socket=${iniValue(source.socket)}`)
    else lines.push(`host=${iniValue(source.host)}`, `port=${source.port}`)
    await writeFile(defaults, lines.join('\n') + '\n', { mode: 0o600 })
    await chmod(defaults, 0o600)
    return new Mariabackup(source, defaults)
  }

  /**
   * A hot `--backup` of `databases` into `targetDir`. With `incrementalBase` (an earlier,
   * unprepared backup of the same databases) only the pages changed since it are copied,
   * plus the redo log. `noLock` skips mariabackup's own BACKUP STAGE locks: only for a caller
   * that holds the server's global read lock, so that no commit can happen meanwhile.
   */
  async backup(
    databases: readonly string[],
    targetDir: string,
    signal: AbortSignal,
    opts: { readonly incrementalBase?: string; readonly noLock?: boolean } = {},
  ): Promise<number> {
    return timed(() =>
      run(
        [
          `--defaults-extra-file=${this.defaults}`,
          '--backup',
          ...(opts.noLock ? ['--no-lock'] : []),
          `--databases=${databases.join(' ')}`,
          ...(opts.incrementalBase ? [`--incremental-basedir=${opts.incrementalBase}`] : []),
          `--target-dir=${targetDir}`,
        ],
        this.source,
        signal,
      ),
    )
  }

  /**
   * Prepares the backup in `targetDir` for export (MariaDB manual, "mariadb-backup: Restoring
   * Individual Tables and Partitions", "Incremental Backup and Restore"): the redo log is
   * applied; then the incremental backup in `incrementalDir`, if any; then `--export` writes
   * a `.cfg` beside each tablespace. Afterwards `<targetDir>/<db>/<table>.ibd` is consistent
   * at the end of the last backup applied.
   */
  async prepareForExport(
    targetDir: string,
    signal: AbortSignal,
    incrementalDir?: string,
  ): Promise<number> {
    return timed(async () => {
      const target = `--target-dir=${targetDir}`
      if (incrementalDir) {
        await run(['--prepare', target], this.source, signal)
        await run(['--prepare', target, `--incremental-dir=${incrementalDir}`], this.source, signal)
      }
      await run(['--prepare', '--export', target], this.source, signal)
    })
  }

  async close(): Promise<void> {
    await rm(this.defaults, { force: true })
  }
}

/** `mariabackup --version`, first line (it prints on stderr). */
export async function mariabackupVersion(signal: AbortSignal): Promise<string> {
  const out = await run(['--version'], undefined, signal)
  return out.split('\n').find((l) => l.trim() !== '') ?? ''
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now()
  await fn()
  return Math.round(performance.now() - t)
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
      const what = args.find((a) => !a.startsWith('--defaults')) ?? ''
      reject(failure(source, `${MARIABACKUP} ${what} exited with ${code}: ${last}`))
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
