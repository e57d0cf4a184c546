import { sql } from 'kysely'
import type { EnvironmentType, Plan } from '../store/index.js'
import type { ControlContext } from './context.js'
import { nextRun, parseCron } from './cron.js'
import { newRowId } from './ids.js'

/** The automatic backups' schedule (PRODUCT.md: every hour), a policy setting. */
export const AUTOMATIC_CRON = '0 * * * *'

/** Whether an environment gets hourly automatic backups (Pro staging and production). */
export function hasAutomaticBackups(plan: Plan, type: EnvironmentType): boolean {
  return plan === 'pro' && (type === 'staging' || type === 'production')
}

/**
 * Creates (or removes) the hourly automatic schedule of each environment that needs it.
 * Called by the scheduler's tick and at once when an environment or a project's plan
 * changes, so that a new Pro production environment shows its schedule right away.
 */
export async function syncAutomaticSchedules(ctx: ControlContext): Promise<void> {
  const envs = await ctx.store.db
    .selectFrom('environments')
    .innerJoin('projects', 'projects.id', 'environments.project_id')
    .select(['environments.project_id', 'environments.name', 'environments.type', 'projects.plan'])
    .execute()
  const autos = await ctx.store.db
    .selectFrom('schedules')
    .select(['id', 'project_id', 'environment'])
    .where('kind', '=', 'automatic')
    .execute()
  const now = ctx.now()
  const cron = parseCron(AUTOMATIC_CRON)
  for (const e of envs) {
    const has = autos.find((a) => a.project_id === e.project_id && a.environment === e.name)
    const wants = hasAutomaticBackups(e.plan, e.type)
    if (wants && !has) {
      // Requests and the scheduler's tick may both get here: the partial unique index
      // `schedules_one_automatic` keeps one, the other's insert does nothing.
      await ctx.store.db
        .insertInto('schedules')
        .values({
          id: newRowId(),
          project_id: e.project_id,
          environment: e.name,
          kind: 'automatic',
          cron: AUTOMATIC_CRON,
          live: 1,
          keep_count: null,
          keep_days: null,
          next_run_at: nextRun(cron, now).toISOString(),
          last_run_at: null,
          last_success_at: null,
          last_skipped_at: null,
          last_alarm_at: null,
          created_by: null,
          created_at: now.toISOString(),
        })
        .onConflict((oc) =>
          oc
            .columns(['project_id', 'environment'])
            // A literal: SQLite matches the partial index's WHERE by its text, not a parameter.
            .where(sql.ref('kind'), '=', sql.lit('automatic'))
            .doNothing(),
        )
        .execute()
    } else if (!wants && has) {
      await ctx.store.db.deleteFrom('schedules').where('id', '=', has.id).execute()
    }
  }
}
