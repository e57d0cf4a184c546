import { forget, prune, RepoReader, type Repository, type SnapshotId } from '../repo/index.js'
import type { OpContext } from './op-context.js'

/** Forgets snapshots and prunes the data no other snapshot uses. */
export async function deleteSnapshots(
  repo: Repository,
  snapshotIds: readonly string[],
  ctx: OpContext,
): Promise<void> {
  const reader = await RepoReader.open(repo, ctx.signal)
  const ids: SnapshotId[] = []
  for (const id of snapshotIds) ids.push((await reader.findSnapshot(id, {}, ctx.signal)).id)
  await forget(repo, { policy: {}, ids, now: ctx.now, signal: ctx.signal })
  await prune(repo, { signal: ctx.signal, now: ctx.now })
  ctx.logLine(`Deleted ${ids.length} snapshot${ids.length === 1 ? '' : 's'}`)
}
