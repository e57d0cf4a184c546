import { CofferError, NotFoundError } from '../errors.js'
import type { ScheduleKind, ScheduleRow } from '../store/index.js'
import { environmentFor } from './access.js'
import type { Actor } from './actor.js'
import { recordAudit } from './audit.js'
import type { ControlContext } from './context.js'
import { nextRun, parseCron } from './cron.js'
import { hasAutomaticBackups } from './automatic-schedules.js'
import { newRowId } from './ids.js'

export interface ScheduleView {
  readonly id: string
  readonly project: string
  readonly environment: string
  readonly kind: ScheduleKind
  readonly cron: string
  readonly live: boolean
  readonly keepCount: number | null
  readonly keepDays: number | null
  readonly nextRunAt: string
  readonly lastRunAt: string | null
  readonly lastSuccessAt: string | null
  readonly lastSkippedAt: string | null
  readonly createdBy: string | null
  readonly createdAt: string
}

export function scheduleView(r: ScheduleRow): ScheduleView {
  return {
    id: r.id,
    project: r.project_id,
    environment: r.environment,
    kind: r.kind,
    cron: r.cron,
    live: r.live === 1,
    keepCount: r.keep_count,
    keepDays: r.keep_days,
    nextRunAt: r.next_run_at,
    lastRunAt: r.last_run_at,
    lastSuccessAt: r.last_success_at,
    lastSkippedAt: r.last_skipped_at,
    createdBy: r.created_by,
    createdAt: r.created_at,
  }
}

export interface ScheduleInput {
  readonly cron: string
  readonly live?: boolean
  /** Keep the newest N snapshots of this schedule… */
  readonly keepCount?: number
  /** …and/or those younger than D days. At least one is required. */
  readonly keepDays?: number
}

/**
 * Adds a backup schedule to an environment (its admins). Pro staging and production are
 * backed up automatically and take no other schedule.
 */
export async function createSchedule(
  actor: Actor,
  projectId: string,
  environment: string,
  input: ScheduleInput,
  ctx: ControlContext,
): Promise<ScheduleView> {
  const { project, environment: env } = await environmentFor(
    actor,
    projectId,
    environment,
    'admin',
    ctx,
    'schedule snapshots',
  )
  if (hasAutomaticBackups(project.plan, env.type))
    throw new CofferError(
      'manual_not_allowed',
      'Pro staging and production environments are backed up automatically: they take no other schedule.',
    )
  if (input.keepCount === undefined && input.keepDays === undefined)
    throw new CofferError(
      'invalid_input',
      'A schedule needs a retention: keep_count, keep_days or both.',
    )
  const cron = parseCron(input.cron)
  const now = ctx.now()
  const row: ScheduleRow = {
    id: newRowId(),
    project_id: projectId,
    environment,
    kind: 'cron',
    cron: cron.source,
    live: input.live ? 1 : 0,
    keep_count: input.keepCount ?? null,
    keep_days: input.keepDays ?? null,
    next_run_at: nextRun(cron, now).toISOString(),
    last_run_at: null,
    last_success_at: null,
    last_skipped_at: null,
    last_alarm_at: null,
    created_by: actor.name,
    created_at: now.toISOString(),
  }
  await ctx.store.db.insertInto('schedules').values(row).execute()
  await recordAudit(
    actor,
    {
      action: 'schedule.create',
      project: projectId,
      environment,
      target: row.id,
      detail: { cron: row.cron },
    },
    ctx,
  )
  return scheduleView(row)
}

/** Schedules of an environment, the automatic one included. */
export async function listSchedules(
  actor: Actor,
  projectId: string,
  environment: string,
  ctx: ControlContext,
): Promise<ScheduleView[]> {
  await environmentFor(actor, projectId, environment, 'viewer', ctx)
  const rows = await ctx.store.db
    .selectFrom('schedules')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('environment', '=', environment)
    .orderBy('created_at')
    .execute()
  return rows.map(scheduleView)
}

export async function deleteSchedule(
  actor: Actor,
  projectId: string,
  environment: string,
  id: string,
  ctx: ControlContext,
): Promise<void> {
  await environmentFor(actor, projectId, environment, 'admin', ctx, 'schedule snapshots')
  const row = await ctx.store.db
    .selectFrom('schedules')
    .selectAll()
    .where('id', '=', id)
    .where('project_id', '=', projectId)
    .where('environment', '=', environment)
    .executeTakeFirst()
  if (!row) throw new NotFoundError(`The schedule ${id} does not exist.`)
  if (row.kind === 'automatic')
    throw new CofferError(
      'refused',
      'The automatic backups of Pro staging and production environments cannot be unscheduled.',
    )
  await ctx.store.db.deleteFrom('schedules').where('id', '=', id).execute()
  await recordAudit(
    actor,
    { action: 'schedule.delete', project: projectId, environment, target: id },
    ctx,
  )
}
