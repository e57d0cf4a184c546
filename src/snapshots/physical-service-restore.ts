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
 * staged, then `beforeSwitch` (the environment's barrier), then each switched. With the
 * logical restore's delta: tables whose content hash equals the snapshot's are kept.
 */
export async function restorePhysicalService(
  job: ServiceRestoreJob,
  tree: TreeReader,
  ctx: OpContext,
  beforeSwitch: (journal: string | undefined) => Promise<void>,
): Promise<{ reloaded: number; kept: number }> {
  const result = await restorePhysical(tree, job.source, ctx, {
    ...job.options,
    beforeSwitch,
    onNote: (line) => ctx.logLine(line),
  })
  let reloaded = 0
  let kept = 0
  for (const d of result.databases) {
    reloaded += d.imported.length + d.loaded.length
    kept += d.kept.length
    ctx.logLine(
      `Database ${d.target}: ${d.imported.length} table${d.imported.length === 1 ? '' : 's'} imported from tablespaces, ${d.loaded.length} loaded, ${d.kept.length} kept, switched in ${d.switchMs} ms`,
    )
  }
  return { reloaded, kept }
}

/** What restoring a physically stored service would change: tables reloaded, kept, dropped. */
export function previewPhysicalService(
  job: ServiceRestoreJob,
  tree: TreeReader,
  ctx: OpContext,
): Promise<MysqlRestorePlan[]> {
  return previewPhysicalRestore(tree, job.source, ctx, job.options)
}
