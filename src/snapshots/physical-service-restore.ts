import {
  previewPhysicalRestore,
  restorePhysical,
  type MysqlRestorePlan,
  type TreeReader,
} from '../capture/index.js'
import type { OpContext } from './op-context.js'
import type { ServiceRestoreJob } from './service-restore.js'

/**
 * Whether the snapshot holds the service physically: its manifest says so, or its tree has
 * `services/<service>/physical.json` (docs/FORMAT.md, "MySQL physical mode"); the logical
 * restore refuses such a service.
 */
export async function isStoredPhysically(
  job: ServiceRestoreJob,
  tree: TreeReader,
  signal: AbortSignal,
): Promise<boolean> {
  if (job.stored.mode === 'physical') return true
  const entries = await tree.list(`services/${job.stored.name}`, { signal })
  return entries.some((e) => e.name === 'physical.json' && e.type === 'file')
}

/**
 * Restores a physically stored service as restoreService does a logical one: every database
 * staged, then `beforeSwitch` (the environment's barrier), then each switched. There is no
 * delta: every table of a selected database is imported or loaded.
 */
export async function restorePhysicalService(
  job: ServiceRestoreJob,
  tree: TreeReader,
  ctx: OpContext,
  beforeSwitch: () => Promise<void>,
): Promise<{ reloaded: number; kept: number }> {
  const result = await restorePhysical(tree, job.source, ctx, { ...job.options, beforeSwitch })
  let reloaded = 0
  for (const d of result.databases) {
    const n = d.imported.length + d.loaded.length
    reloaded += n
    ctx.logLine(
      `Database ${d.target}: ${d.imported.length} table${d.imported.length === 1 ? '' : 's'} imported from tablespaces, ${d.loaded.length} loaded, switched in ${d.switchMs} ms`,
    )
  }
  return { reloaded, kept: 0 }
}

/** What restoring a physically stored service would change: every table of each database. */
export function previewPhysicalService(
  job: ServiceRestoreJob,
  tree: TreeReader,
  ctx: OpContext,
): Promise<MysqlRestorePlan[]> {
  return previewPhysicalRestore(tree, job.source, ctx, job.options)
}
