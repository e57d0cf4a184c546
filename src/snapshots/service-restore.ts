import {
  parseMysqlUrl,
  previewMysqlRestore,
  restoreMysql,
  snapshotTreeReader,
  type MysqlRestoreOptions,
  type MysqlRestorePlan,
  type MysqlSource,
} from '../capture/index.js'
import { InvalidInputError, RefusedError } from '../errors.js'
import type { RepoReader, TreeId } from '../repo/index.js'
import type { RestorePart } from './api-types.js'
import type { DatabaseService, EnvironmentSpec } from './environment.js'
import type { Manifest, ServiceManifest } from './manifest.js'
import type { OpContext } from './op-context.js'
import {
  isStoredPhysically,
  previewPhysicalService,
  restorePhysicalService,
} from './physical-service-restore.js'

/** One database service of a snapshot, matched to the target environment's service. */
export interface ServiceRestoreJob {
  readonly stored: ServiceManifest
  readonly target: DatabaseService
  readonly source: MysqlSource
  readonly options: Pick<MysqlRestoreOptions, 'service' | 'databaseMap' | 'include'>
}

/**
 * Which services a restore touches and how the snapshot's databases map onto the target's.
 * A service is matched by name. Databases keep their names, except when the target
 * service's URL names databases the snapshot does not have: then a snapshot holding one
 * database restores it under the target's one name (restoring `develop`'s `shop` into
 * `staging`'s `shop_staging`); anything more ambiguous is refused.
 */
export function planServiceRestores(
  manifest: Manifest,
  target: EnvironmentSpec,
  only: readonly RestorePart[],
): ServiceRestoreJob[] {
  const all = only.length === 0 || only.some((p) => p.kind === 'services')
  const jobs: ServiceRestoreJob[] = []
  for (const stored of manifest.services) {
    const picks = only.filter(
      (p): p is Extract<RestorePart, { kind: 'database' | 'table' }> =>
        (p.kind === 'database' || p.kind === 'table') && p.service === stored.name,
    )
    if (!all && picks.length === 0) continue
    const service = target.services.find((s) => s.name === stored.name)
    if (!service)
      throw new InvalidInputError(
        'target',
        `The environment ${target.name} has no database service ${stored.name}.`,
      )
    const source = parseMysqlUrl(service.url)
    const databaseMap = mapDatabases(stored, source, target.name)
    const include = all
      ? undefined
      : picks.map((p) => (p.kind === 'database' ? p.database : `${p.database}/${p.table}`))
    for (const p of picks)
      if (!stored.databases.some((d) => d.name === p.database))
        throw new InvalidInputError(
          'only',
          `The snapshot has no database ${p.database} in service ${stored.name}.`,
        )
    const table = picks.find((p) => p.kind === 'table')
    if (stored.mode === 'physical' && table?.kind === 'table')
      throw new RefusedError(
        'refused',
        `Database service ${stored.name} was captured physically in this snapshot: the table ${table.database}.${table.table} cannot be restored alone, only its whole database. Nothing was changed.`,
      )
    jobs.push({
      stored,
      target: service,
      source,
      options: {
        service: stored.name,
        ...(Object.keys(databaseMap).length > 0 ? { databaseMap } : {}),
        ...(include ? { include } : {}),
      },
    })
  }
  for (const p of only)
    if (
      (p.kind === 'database' || p.kind === 'table') &&
      !manifest.services.some((s) => s.name === p.service)
    )
      throw new InvalidInputError('only', `The snapshot has no database service ${p.service}.`)
  return jobs
}

function mapDatabases(
  stored: ServiceManifest,
  source: MysqlSource,
  environment: string,
): Record<string, string> {
  const wanted = source.databases
  const storedNames = stored.databases.map((d) => d.name)
  if (wanted.length === 0 || storedNames.every((n) => wanted.includes(n))) return {}
  if (storedNames.length === 1 && wanted.length === 1) return { [storedNames[0]!]: wanted[0]! }
  throw new InvalidInputError(
    'target',
    `The databases of service ${stored.name} in the snapshot (${storedNames.join(', ')}) do not match those of ${environment} (${wanted.join(', ')}).`,
  )
}

/**
 * Restores one service: its databases are staged, then `beforeSwitch` is awaited (the
 * environment's barrier: every part staged, the hold taken), then each database is switched
 * atomically; tables already equal to the snapshot are kept. `onSwitched` is told when every
 * database is switched in, before what the switch left aside is dropped (a logical restore;
 * a physical one finishes first).
 */
export async function restoreService(
  job: ServiceRestoreJob,
  reader: RepoReader,
  root: TreeId,
  ctx: OpContext,
  beforeSwitch: (journal: string | undefined) => Promise<void>,
  onSwitched: () => void,
): Promise<{ reloaded: number; kept: number }> {
  ctx.logLine(`Staging database service ${job.stored.name}`)
  const tree = snapshotTreeReader(reader, root)
  if (await isStoredPhysically(job, tree, ctx.signal))
    return restorePhysicalService(job, tree, ctx, beforeSwitch)
  const result = await restoreMysql(tree, job.source, ctx, {
    ...job.options,
    beforeSwitch,
    onSwitched,
  })
  let reloaded = 0
  let kept = 0
  for (const d of result.databases) {
    // A patched table was restored, some of its rows rewritten: it counts as reloaded.
    reloaded += d.reload.length + d.patch.length
    kept += d.keep.length
    ctx.logLine(
      `Database ${d.target}: ${d.reload.length} table${d.reload.length === 1 ? '' : 's'} reloaded, ${d.patch.length} patched (${d.patchRows} row${d.patchRows === 1 ? '' : 's'} rewritten), ${d.keep.length} unchanged, switched in ${d.switchMs} ms`,
    )
  }
  return { reloaded, kept }
}

/** What restoring one service would change, without changing anything. */
export async function previewService(
  job: ServiceRestoreJob,
  reader: RepoReader,
  root: TreeId,
  ctx: OpContext,
): Promise<readonly MysqlRestorePlan[]> {
  const tree = snapshotTreeReader(reader, root)
  if (await isStoredPhysically(job, tree, ctx.signal)) return previewPhysicalService(job, tree, ctx)
  return previewMysqlRestore(tree, job.source, ctx, job.options)
}
