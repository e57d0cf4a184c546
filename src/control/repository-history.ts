import { messageOf } from '../errors.js'
import type { RepositorySizeRow } from '../store/index.js'
import { projectFor } from './access.js'
import type { Actor } from './actor.js'
import type { ControlContext } from './context.js'
import type { RepositoryFigures } from './repository-health.js'

/** One sample of a project's repository size: the figures of its health at a minute. */
export interface RepositorySizeSample extends RepositoryFigures {
  /** The minute the figures were taken (ISO 8601, seconds zero). */
  readonly takenAt: string
}

/** How far back a history reaches at most (a year and a day). */
export const REPOSITORY_HISTORY_MAX_DAYS = 366
/** How many samples a history returns at most: the newest (one a minute would be 525,600). */
export const REPOSITORY_HISTORY_MAX_SAMPLES = 10_000

const MINUTE_MS = 60_000

function sampleView(r: RepositorySizeRow): RepositorySizeSample {
  return {
    takenAt: r.taken_at,
    storedBytes: r.stored_bytes,
    packs: r.packs,
    snapshots: r.snapshots,
    snapshotBytes: r.snapshot_bytes,
  }
}

/**
 * Keeps a project's repository figures as a sample of its size history, at the current minute
 * (`ctx.now`): figures taken again within that minute replace the sample's, so there is at
 * most one sample per project and minute. Never throws — the history is a convenience, and
 * whatever computed the figures (a health request, a finished backup) must not fail because of
 * it; a failure is logged.
 */
export async function recordRepositorySize(
  projectId: string,
  figures: RepositoryFigures,
  ctx: ControlContext,
): Promise<void> {
  const now = ctx.now().getTime()
  const values = {
    stored_bytes: figures.storedBytes,
    packs: figures.packs,
    snapshots: figures.snapshots,
    snapshot_bytes: figures.snapshotBytes,
  }
  try {
    await ctx.store.db
      .insertInto('repository_sizes')
      .values({
        project_id: projectId,
        taken_at: new Date(now - (now % MINUTE_MS)).toISOString(),
        ...values,
      })
      .onConflict((oc) => oc.columns(['project_id', 'taken_at']).doUpdateSet(values))
      .execute()
  } catch (e) {
    ctx.log.warn(
      { err: e, reason: messageOf(e), project: projectId },
      'repository size not recorded',
    )
  }
}

/**
 * A project's repository size over the last `days` days (its admins, as its health), oldest
 * first; at most `REPOSITORY_HISTORY_MAX_SAMPLES`, the newest. `days` is checked by the caller
 * (the API's schema) to lie in 1…`REPOSITORY_HISTORY_MAX_DAYS`.
 */
export async function repositoryHistory(
  actor: Actor,
  projectId: string,
  opts: { readonly days: number },
  ctx: ControlContext,
): Promise<RepositorySizeSample[]> {
  await projectFor(actor, projectId, 'admin', ctx, 'see the repository')
  const since = new Date(ctx.now().getTime() - opts.days * 24 * 3_600_000).toISOString()
  const rows = await ctx.store.db
    .selectFrom('repository_sizes')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('taken_at', '>=', since)
    .orderBy('taken_at', 'desc')
    .limit(REPOSITORY_HISTORY_MAX_SAMPLES)
    .execute()
  return rows.reverse().map(sampleView)
}
