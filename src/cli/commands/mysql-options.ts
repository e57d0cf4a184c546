import {
  MysqlCapture,
  parseMysqlUrl,
  preloadMysqlClient,
  restoreMysql,
  restorePhysical,
  snapshotTreeReader,
  type DriverContext,
  type MysqlCaptureResult,
  type MysqlRestoreResult,
  type MysqlSource,
  type PhysicalRestoreResult,
  type TreeReader,
  type TreeWriter,
} from '../../capture/index.js'
import { InvalidInputError } from '../../errors.js'
import { silentLogger } from '../../lib/index.js'
import type { RepoReader, TreeId } from '../../repo/index.js'
import { err, formatBytes, out } from '../output.js'

/** One `--mysql URL` of repo:backup or repo:restore, with the service name it stands for. */
export interface MysqlService {
  readonly service: string
  readonly source: MysqlSource
}

const SERVICE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/

/**
 * Parses the `--mysql` URLs of a command. Services are named `mysql`, `mysql2`, `mysql3`… in
 * the order given, unless a URL says `?service=NAME` (taken out before the URL is parsed).
 * Errors never quote the URL: it may hold a password.
 */
export function parseMysqlServices(urls: readonly string[]): MysqlService[] {
  if (urls.length > 0) preloadMysqlClient()
  const out: MysqlService[] = []
  urls.forEach((raw, i) => {
    let url = raw
    let service = i === 0 ? 'mysql' : `mysql${i + 1}`
    const q = raw.indexOf('?')
    if (q >= 0) {
      const params = new URLSearchParams(raw.slice(q + 1))
      const named = params.get('service')
      if (named !== null) {
        if (!SERVICE_NAME.test(named))
          throw new InvalidInputError(
            'mysql',
            'The service name (?service=) takes letters, digits, "_" and "-", up to 64.',
          )
        service = named
        params.delete('service')
        const rest = params.toString()
        url = raw.slice(0, q) + (rest ? `?${rest}` : '')
      }
    }
    if (out.some((s) => s.service === service))
      throw new InvalidInputError(
        'mysql',
        `Two --mysql options stand for the service ${service}: name one with ?service=.`,
      )
    out.push({ service, source: parseMysqlUrl(url) })
  })
  return out
}

/** A driver context for the CLI: silent logs, progress to `onProgress`. */
export function cliDriverContext(
  signal: AbortSignal,
  onProgress: (text: string) => void = () => {},
): DriverContext {
  return {
    signal,
    log: silentLogger,
    now: () => new Date(),
    progress: (p) =>
      onProgress(
        `${p.phase ?? ''} ${formatBytes(p.bytesDone)}${p.bytesTotal ? ` of ${formatBytes(p.bytesTotal)}` : ''}`,
      ),
  }
}

/**
 * The MySQL part of repo:backup: every server's capture steps in lock step (all connect, all
 * lock, all open their snapshot transactions, all unlock), so the services are read at one
 * moment; `during` runs between the unlock and the dumps (the file capture). Tables unchanged
 * since the `parent` snapshot are stored from it unread. On failure
 * every connection is dropped and the error rethrown; the caller aborts the snapshot.
 */
export async function captureMysqlServices(
  services: readonly MysqlService[],
  tree: TreeWriter,
  ctx: DriverContext,
  live: boolean,
  during: () => Promise<void>,
  parent?: TreeReader,
): Promise<MysqlCaptureResult[]> {
  const captures = services.map(
    (s) =>
      new MysqlCapture(s.source, tree, ctx, {
        service: s.service,
        live,
        ...(parent ? { parent } : {}),
      }),
  )
  try {
    for (const c of captures) await c.prepare()
    try {
      for (const c of captures) await c.hold()
      for (const c of captures) await c.final()
    } finally {
      for (const c of captures) await c.release().catch(() => undefined)
    }
    await during()
    const results: MysqlCaptureResult[] = []
    for (const c of captures) results.push(await c.finish())
    return results
  } catch (e) {
    for (const c of captures) await c.abort()
    throw e
  }
}

/** The restic-like summary lines of a capture (stdout). */
export function printCaptureSummary(results: readonly MysqlCaptureResult[]): void {
  for (const r of results) {
    const tables = r.databases.reduce((n, d) => n + d.tables.length, 0)
    out(
      `MySQL ${r.service}: ${r.databases.length} databases, ${tables} tables, ${r.rows} rows, ${formatBytes(r.bytes)} from ${r.server} (${r.serverVersion})`,
    )
    out(
      r.mode === 'live'
        ? `MySQL ${r.service}: live capture, no lock`
        : `MySQL ${r.service}: ${r.mode} capture, global read lock held ${r.lockMs} ms`,
    )
    if (r.reused.length > 0)
      out(
        `MySQL ${r.service}: ${r.reused.length} of the tables unchanged since the parent snapshot, stored without reading them`,
      )
    if (r.mode === 'single-connection')
      err(`warning: ${r.service}: no privilege for a global read lock, captured on one connection`)
    if (r.nonTransactional.length > 0)
      err(`warning: ${r.service}: tables without transactions: ${r.nonTransactional.join(', ')}`)
    if (r.historyNotStored.length > 0)
      err(
        `warning: ${r.service}: system-versioned tables stored without their history (transaction-precise versioning): ${r.historyNotStored.join(', ')}`,
      )
  }
}

/** The `services` field of repo:backup's JSON summary. */
export function captureSummaryJson(results: readonly MysqlCaptureResult[]): object[] {
  return results.map((r) => ({
    service: r.service,
    server: r.server,
    server_version: r.serverVersion,
    mode: r.mode,
    lock_ms: r.lockMs,
    ...(r.binlog ? { binlog: r.binlog } : {}),
    databases: r.databases.map((d) => ({
      name: d.name,
      tables: d.tables.length,
      rows: d.tables.reduce((n, t) => n + t.rows, 0),
      bytes: d.tables.reduce((n, t) => n + t.bytes, 0),
    })),
    non_transactional: r.nonTransactional,
    ...(r.historyNotStored.length > 0 ? { history_not_stored: r.historyNotStored } : {}),
    reused: r.reused,
    rows: r.rows,
    bytes: r.bytes,
  }))
}

/** Selection flags of repo:restore that concern the MySQL services. */
export interface MysqlRestoreFlags {
  /** `--include` values; those under `/services/` select databases or tables. */
  readonly include: readonly string[]
  /** `--database-map OLD=NEW` values. */
  readonly databaseMap: readonly string[]
  /** Awaited before a restore changes anything (the repository lock's confirmation). */
  readonly beforeChange?: () => Promise<void>
}

/** One service restored, by the restore its snapshot was captured for. */
export type ServiceRestore =
  | { readonly service: string; readonly mode: 'logical'; readonly result: MysqlRestoreResult }
  | { readonly service: string; readonly mode: 'physical'; readonly result: PhysicalRestoreResult }

/**
 * The MySQL part of repo:restore: each service of the snapshot named by a `--mysql` URL is
 * restored into that server (capture/mysql restoreMysql: staged, then switched). A service
 * captured physically (its `physical.json`, docs/FORMAT.md section 11) goes to restorePhysical
 * instead, which needs the server's data directory on this host (docs/PHYSICAL.md). Databases
 * named in a URL's path narrow the restore to those snapshot databases, as
 * `--include /services/<service>/DB` does. A `--database-map` applies to every service that
 * holds the database.
 */
export async function restoreMysqlServices(
  services: readonly MysqlService[],
  reader: RepoReader,
  root: TreeId,
  flags: MysqlRestoreFlags,
  ctx: DriverContext,
  onPhase: (service: string, phase: string, db: string) => void = () => {},
): Promise<ServiceRestore[]> {
  const map = parseDatabaseMap(flags.databaseMap)
  const includes = flags.include
    .filter((i) => i.replace(/^\/+/, '').startsWith('services/'))
    .map((i) => i.replace(/^\/+/, '').replace(/\/+$/, '').split('/').slice(1))
  for (const inc of includes) {
    if (inc.length < 2 || inc.length > 3)
      throw new InvalidInputError(
        'include',
        'A service include is /services/<service>/<database>[/<table>].',
      )
    if (!services.some((s) => s.service === inc[0]))
      throw new InvalidInputError(
        'include',
        `No --mysql option stands for the service ${inc[0]} (name it with ?service=).`,
      )
  }
  const tree = snapshotTreeReader(reader, root)
  const top = await tree.list('services', { signal: ctx.signal }).catch(() => [])
  const results: ServiceRestore[] = []
  for (const s of services) {
    if (!top.some((e) => e.name === s.service && e.type === 'dir'))
      throw new InvalidInputError(
        'mysql',
        `The snapshot has no service ${s.service} (it has: ${top.map((e) => e.name).join(', ') || 'none'}).`,
      )
    const listed = await tree.list(`services/${s.service}`, { signal: ctx.signal })
    const dbs = listed.filter((e) => e.type === 'dir').map((e) => decodeURIComponent(e.name))
    const physical = listed.some((e) => e.name === 'physical.json' && e.type === 'file')
    const include = [
      ...includes.filter((i) => i[0] === s.service).map((i) => i.slice(1).join('/')),
      ...s.source.databases,
    ]
    const databaseMap = Object.fromEntries(Object.entries(map).filter(([k]) => dbs.includes(k)))
    const opts = {
      service: s.service,
      databaseMap,
      ...(include.length > 0 ? { include } : {}),
      onPhase: (phase: string, db: string) => onPhase(s.service, phase, db),
    }
    if (physical) await flags.beforeChange?.()
    results.push(
      physical
        ? {
            service: s.service,
            mode: 'physical',
            result: await restorePhysical(tree, s.source, ctx, opts),
          }
        : {
            service: s.service,
            mode: 'logical',
            result: await restoreMysql(tree, s.source, ctx, {
              ...opts,
              ...(flags.beforeChange ? { beforeStage: flags.beforeChange } : {}),
            }),
          },
    )
  }
  const unused = Object.keys(map).filter(
    (k) => !results.some((r) => r.result.databases.some((d) => d.database === k)),
  )
  if (unused.length > 0)
    err(`warning: --database-map names ${unused.join(', ')}, which no restored service holds`)
  return results
}

function parseDatabaseMap(values: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {}
  for (const v of values) {
    const eq = v.indexOf('=')
    const from = v.slice(0, eq)
    const to = v.slice(eq + 1)
    if (eq <= 0 || to === '')
      throw new InvalidInputError('database-map', `--database-map takes OLD=NEW, not "${v}".`)
    map[from] = to
  }
  return map
}

/** The restic-like summary lines of a restore (stdout). */
export function printRestoreSummary(results: readonly ServiceRestore[]): void {
  for (const r of results)
    if (r.mode === 'physical')
      for (const d of r.result.databases)
        out(
          `MySQL ${r.service}: ${d.database} -> ${d.target}: imported ${d.imported.length} tablespaces, loaded ${d.loaded.length} tables (${formatBytes(d.bytes)}), kept ${d.kept.length}, dropped ${d.dropped.length}; switch ${d.switchMs} ms`,
        )
    else
      for (const d of r.result.databases)
        out(
          `MySQL ${r.service}: ${d.database} -> ${d.target}: reloaded ${d.reload.length} tables (${d.rows} rows, ${formatBytes(d.bytes)}), patched ${d.patch.length} (${d.patchRows} rows), kept ${d.keep.length} (${d.unread.length} without reading), dropped ${d.drop.length}; switch ${d.switchMs} ms`,
        )
}

/** The `services` field of repo:restore's JSON summary. */
export function restoreSummaryJson(results: readonly ServiceRestore[]): object[] {
  return results.map((r) =>
    r.mode === 'physical' ? physicalSummaryJson(r) : logicalSummaryJson(r),
  )
}

function physicalSummaryJson({
  service,
  result,
}: {
  service: string
  result: PhysicalRestoreResult
}): object {
  return {
    service,
    mode: 'physical',
    databases: result.databases.map((d) => ({
      database: d.database,
      target: d.target,
      reloaded: [...d.imported, ...d.loaded].sort(),
      imported: d.imported,
      loaded: d.loaded,
      kept: d.kept,
      kept_unread: d.keptUnread,
      dropped: d.dropped,
      bytes: d.bytes,
      switch_ms: d.switchMs,
    })),
  }
}

function logicalSummaryJson({
  service,
  result,
}: {
  service: string
  result: MysqlRestoreResult
}): object {
  return {
    service,
    databases: result.databases.map((d) => ({
      database: d.database,
      target: d.target,
      reloaded: d.reload,
      patched: d.patch,
      patched_rows: d.patchRows,
      kept: d.keep,
      kept_unread: d.unread,
      dropped: d.drop,
      rows: d.rows,
      bytes: d.bytes,
      switch_ms: d.switchMs,
    })),
  }
}
