import { messageOf } from '../errors.js'
import type { ActivityType } from '../store/index.js'
import type { ControlContext } from './context.js'
import { measureRepository } from './repository-health.js'
import { recordRepositorySize } from './repository-history.js'

/**
 * The activities after which the repository's size may have changed: a backup adds packs
 * (a failed one may leave some), a deletion or an expiry prunes them. A restore only reads.
 */
const CHANGES_SIZE: Readonly<Record<ActivityType, boolean>> = {
  'environment.backup': true,
  'environment.backup.delete': true,
  'environment.restore': false,
}

/**
 * Samples a project's repository size after one of its activities finished, whatever the
 * outcome: measures it (a listing of the data packs, see `measureRepository`) and records it
 * (`recordRepositorySize`). Called once the activity is recorded as finished, never inside
 * it: the activity's duration and result do not include the listing (the worker's slot waits
 * for it, one LIST of the storage). Never throws: a repository that cannot be
 * listed now (storage down, project deleted meanwhile) only leaves a gap in the history, and
 * is logged. `signal` is the worker's shutdown: a stopping worker does not start a listing.
 */
export async function sampleAfterActivity(
  activity: { readonly project_id: string; readonly type: ActivityType },
  ctx: ControlContext,
  signal?: AbortSignal,
): Promise<void> {
  if (!CHANGES_SIZE[activity.type] || signal?.aborted) return
  // A signal of its own, following the worker's: listeners the storage client leaves on it
  // go away with it instead of piling up on the worker's signal, one set per activity.
  await sampleRepositorySize(
    activity.project_id,
    ctx,
    signal ? AbortSignal.any([signal]) : undefined,
  )
}

/** Measures and records a project's repository size now; never throws (logs instead). */
export async function sampleRepositorySize(
  projectId: string,
  ctx: ControlContext,
  signal?: AbortSignal,
): Promise<void> {
  try {
    const project = await ctx.store.db
      .selectFrom('projects')
      .selectAll()
      .where('id', '=', projectId)
      .executeTakeFirst()
    if (!project) return
    await recordRepositorySize(projectId, await measureRepository(project, ctx, signal), ctx)
  } catch (e) {
    ctx.log.warn(
      { err: e, reason: messageOf(e), project: projectId },
      'repository size not sampled',
    )
  }
}
