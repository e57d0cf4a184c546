import { access, constants, stat, statfs } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute } from 'node:path'
import { CofferError, RefusedError } from '../../../errors.js'
import { describeMysqlSource, type MysqlSource } from '../mysql-source.js'
import type { PhysicalSelection } from './physical-selection.js'
import { PRIVATE_SERVER_BYTES, probeMariadbd } from './private-server.js'
import { releaseSeries, serverFlavor, type ServerFacts } from './server-facts.js'

/** How a physical snapshot's tables get into a target, decided before anything changes. */
export interface PhysicalFit {
  /**
   * Set when no tablespace of the snapshot can be imported into the target (page size,
   * release series): why, as a clause for the activity log. Every physical table is then
   * restored logically through a private server of this host.
   */
  readonly fallbackAll?: string
  /** Where a private server's scratch directory goes, if one is needed. */
  readonly scratchParent: string
}

/**
 * Every reason not to start, checked before the first change (issue: "refuses clearly"),
 * and whether the tablespaces can be imported at all. Refuses (RefusedError) when:
 *
 * - the snapshot's server is of another flavour (MariaDB/MySQL) than the target's;
 * - its release series or `innodb_page_size` differs and no private server of the
 *   snapshot's series can run here (`mariadbd`, or `opts.mariadbd`) to restore its tables
 *   logically;
 * - tables are to be imported and the target's data directory is not writable here;
 * - the data directory's filesystem (when tables are imported, or when it is visible here)
 *   or the scratch directory's lacks room.
 */
export async function checkFit(
  { service, databases }: PhysicalSelection,
  facts: ServerFacts,
  target: MysqlSource,
  opts: { readonly mariadbd?: string; readonly scratchParent?: string },
): Promise<PhysicalFit> {
  const where = describeMysqlSource(target)
  const series = releaseSeries(service.serverVersion)
  if (serverFlavor(service.serverVersion) !== serverFlavor(facts.version))
    throw new RefusedError(
      'refused',
      `The physical snapshot was taken on ${service.serverVersion} and ${where} runs ${facts.version}: tablespaces import only within one release series of one server, and table definitions do not carry over between MariaDB and MySQL. Restore logically from a logical snapshot, or into a ${series} server.`,
    )
  let fallbackAll: string | undefined
  if (series !== releaseSeries(facts.version))
    fallbackAll = `${where} runs ${facts.version} and the snapshot was taken on ${service.serverVersion} (tablespaces import only within one release series)`
  else if (service.innodbPageSize !== facts.innodbPageSize)
    fallbackAll = `${where} has InnoDB pages of ${facts.innodbPageSize} bytes and the snapshot's tablespaces have ${service.innodbPageSize}`
  if (fallbackAll !== undefined) {
    const host = await probeMariadbd(opts.mariadbd).catch((e: unknown) =>
      e instanceof CofferError ? e : new CofferError('restore_failed', String(e)),
    )
    const hostSeries = host instanceof CofferError ? undefined : releaseSeries(host.version)
    if (hostSeries !== series)
      throw new RefusedError(
        'refused',
        `The tablespaces of this physical snapshot cannot be imported into ${where}: ${fallbackAll}. No logical fallback is possible either: it needs a MariaDB ${series} server binary on this host to read them, and ${host instanceof CofferError ? host.message : `this host's is ${host.version}.`} Restore into a ${series} server with the snapshot's page size, or from a logical snapshot. Nothing was changed.`,
        { cause: host },
      )
  }
  const imports = fallbackAll === undefined
  if (imports) await refuseUnwritable(facts.datadir, where)
  const scratchParent = opts.scratchParent ?? (await defaultScratchParent(facts.datadir))
  const sum = (f: (t: { ibd: { size: number }; cfg: { size: number } }) => number): number =>
    databases.reduce((n, s) => n + s.physical.tables.reduce((m, t) => m + f(t), 0), 0)
  const logicalBytes = databases.reduce(
    (n, s) => n + s.logical.tables.reduce((m, t) => m + t.bytes, 0),
    0,
  )
  // Imported: the files as stored. Restored logically: the rows, about their tablespace's
  // size once loaded. Plus a tenth: the logical tables' indexes and the server's own growth.
  const targetNeed = Math.ceil(
    ((imports ? sum((t) => t.ibd.size + t.cfg.size) : sum((t) => t.ibd.size)) + logicalBytes) * 1.1,
  )
  const scratchNeed = imports
    ? 0
    : Math.ceil(sum((t) => t.ibd.size + t.cfg.size) * 1.1) + PRIVATE_SERVER_BYTES
  const datadirSpace = await space(facts.datadir)
  if (!datadirSpace && imports)
    throw new RefusedError('refused', `The data directory ${facts.datadir} cannot be measured.`)
  const scratchSpace = scratchNeed > 0 ? await space(scratchParent) : undefined
  if (scratchNeed > 0 && !scratchSpace)
    throw new RefusedError(
      'refused',
      `The directory ${scratchParent} for the private MariaDB server of the logical fallback does not exist here.`,
    )
  const shared = datadirSpace && scratchSpace && datadirSpace.dev === scratchSpace.dev
  if (datadirSpace && datadirSpace.free < targetNeed + (shared ? scratchNeed : 0))
    throw new RefusedError(
      'no_space',
      `The data directory ${facts.datadir} has ${datadirSpace.free} bytes free; the restore needs about ${targetNeed + (shared ? scratchNeed : 0)}${shared ? ` (with the private server's scratch directory in ${scratchParent})` : ''}.`,
    )
  if (scratchSpace && !shared && scratchSpace.free < scratchNeed)
    throw new RefusedError(
      'no_space',
      `The directory ${scratchParent} for the private MariaDB server of the logical fallback has ${scratchSpace.free} bytes free; it needs about ${scratchNeed}.`,
    )
  return { ...(fallbackAll !== undefined ? { fallbackAll } : {}), scratchParent }
}

async function refuseUnwritable(datadir: string, where: string): Promise<void> {
  if (!isAbsolute(datadir))
    throw new RefusedError('refused', `The data directory of ${where} is not an absolute path.`)
  try {
    await access(datadir, constants.W_OK)
    if (!(await stat(datadir)).isDirectory()) throw new Error('not a directory')
  } catch (e) {
    throw new RefusedError(
      'refused',
      `The data directory ${datadir} of ${where} is not writable from this host: a physical restore must run where the server keeps its files.`,
      { cause: e },
    )
  }
}

/**
 * Beside the data directory (its parent, usually on the same large filesystem) when this
 * process can write there, else the system's temporary directory.
 */
async function defaultScratchParent(datadir: string): Promise<string> {
  if (isAbsolute(datadir)) {
    const parent = dirname(datadir.replace(/\/+$/, ''))
    if (
      await access(parent, constants.W_OK).then(
        () => true,
        () => false,
      )
    )
      return parent
  }
  return tmpdir()
}

/** Free bytes of `dir`'s filesystem and its device, or nothing when `dir` is not visible. */
async function space(dir: string): Promise<{ free: number; dev: number } | undefined> {
  try {
    const fs = await statfs(dir)
    return { free: Number(fs.bavail) * Number(fs.bsize), dev: (await stat(dir)).dev }
  } catch {
    return undefined
  }
}
