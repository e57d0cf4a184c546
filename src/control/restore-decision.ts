import { z } from 'zod'
import type { RestoreCommitPoint, RestoreCommitRecord } from '../snapshots/index.js'
import type { ControlContext } from './context.js'

const RECORD = z.object({
  version: z.literal(1),
  services: z.array(z.object({ name: z.string(), journal: z.string() })),
  mounts: z.array(z.object({ name: z.string(), id: z.string() })),
})

/**
 * Keeps a restore's decision in the environment's row (`restore_decision`): the row is
 * written in one statement, durable when it resolves, and read back by the staging cleanup
 * of the next activity or of a restarted worker (`pendingDecision`).
 */
export function restoreCommitPoint(
  env: { readonly project_id: string; readonly name: string },
  ctx: ControlContext,
): RestoreCommitPoint {
  const set = async (value: string | null): Promise<void> => {
    await ctx.store.db
      .updateTable('environments')
      .set({ restore_decision: value })
      .where('project_id', '=', env.project_id)
      .where('name', '=', env.name)
      .execute()
  }
  return {
    record: (r) => set(JSON.stringify(r)),
    clear: () => set(null),
  }
}

/** The decision a restore left in the row, if any. Damaged text is no decision, logged. */
export function pendingDecision(
  env: { readonly restore_decision: string | null; readonly name: string },
  ctx: ControlContext,
): RestoreCommitRecord | undefined {
  if (env.restore_decision === null) return undefined
  try {
    return RECORD.parse(JSON.parse(env.restore_decision))
  } catch (e) {
    ctx.log.error({ err: e, environment: env.name }, 'a restore decision could not be read')
    return undefined
  }
}
