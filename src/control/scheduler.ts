import { CofferError } from '../errors.js'
import { planThinning } from '../snapshots/index.js'
import type { EnvironmentRow, ScheduleRow, SnapshotRow } from '../store/index.js'
import { insertActivity, isBusy, newActivityRow } from './activities.js'
import type { DeleteParams, DeleteReason } from './activity-params.js'
import { hasAutomaticBackups, syncAutomaticSchedules } from './automatic-schedules.js'
import type { ControlContext } from './context.js'
import { interval, nextRun, parseCron } from './cron.js'
import { enqueueNotification } from './notifications/events.js'

/** What one tick did, for logs and tests. */
export interface TickReport {
  readonly started: readonly string[]
  readonly skipped: readonly { schedule: string; reason: 'busy' | 'inactive' }[]
  readonly deletions: readonly { environment: string; reason: DeleteReason; snapshots: number }[]
  readonly alarms: readonly string[]
}

/**
 * One pass of the scheduler at `ctx.now()` (run every minute by `coffer serve`; tests call
 * it with an injected clock): keeps the automatic schedules of Pro staging/production in
 * place, starts due backups, expires manual snapshots past their window, thins automatic
 * backups, applies cron schedules' retention, and sounds the dead man's switch.
 *
 * A scheduled job never refuses like a person's request: when the environment is busy it
 * is skipped and logged, and tried again at the next tick until its slot has passed.
 */
export async function schedulerTick(ctx: ControlContext): Promise<TickReport> {
  const report: {
    started: string[]
    skipped: { schedule: string; reason: 'busy' | 'inactive' }[]
    deletions: { environment: string; reason: DeleteReason; snapshots: number }[]
    alarms: string[]
  } = { started: [], skipped: [], deletions: [], alarms: [] }
  await syncAutomaticSchedules(ctx)
  await runDueSchedules(ctx, report)
  await expireAndThin(ctx, report)
  await deadMansSwitch(ctx, report)
  return report
}

async function environment(
  s: { project_id: string; environment: string },
  ctx: ControlContext,
): Promise<EnvironmentRow | undefined> {
  return ctx.store.db
    .selectFrom('environments')
    .selectAll()
    .where('project_id', '=', s.project_id)
    .where('name', '=', s.environment)
    .executeTakeFirst()
}

async function runDueSchedules(
  ctx: ControlContext,
  report: { started: string[]; skipped: { schedule: string; reason: 'busy' | 'inactive' }[] },
): Promise<void> {
  const now = ctx.now()
  const due = await ctx.store.db
    .selectFrom('schedules')
    .selectAll()
    .where('next_run_at', '<=', now.toISOString())
    .orderBy('next_run_at')
    .execute()
  for (const s of due) {
    const cron = parseCron(s.cron)
    const env = await environment(s, ctx)
    if (!env) continue
    const log = ctx.log.child({ schedule: s.id, project: s.project_id, environment: s.environment })
    if (env.status !== 'active') {
      log.info({}, 'scheduled backup skipped: the environment is not active')
      report.skipped.push({ schedule: s.id, reason: 'inactive' })
      await advance(s, nextRun(cron, now), { last_skipped_at: now.toISOString() }, ctx)
      continue
    }
    try {
      const row = await insertActivity(
        newActivityRow(
          env,
          'environment.backup',
          { live: s.live === 1, scheduleId: s.id },
          null,
          true,
          null,
          ctx,
        ),
        undefined,
        ctx,
      )
      report.started.push(row.id)
      await advance(s, nextRun(cron, now), { last_run_at: now.toISOString() }, ctx)
    } catch (e) {
      if (!(e instanceof CofferError) || e.code !== 'env_busy') throw e
      log.info({}, 'scheduled backup skipped: an activity is pending or in progress')
      report.skipped.push({ schedule: s.id, reason: 'busy' })
      // Wait for the environment while this slot lasts; once the next slot has come, the
      // missed one is given up (the next one takes its place).
      const slotPassed = nextRun(cron, new Date(s.next_run_at)).getTime() <= now.getTime()
      await advance(
        s,
        slotPassed ? nextRun(cron, now) : new Date(s.next_run_at),
        { last_skipped_at: now.toISOString() },
        ctx,
      )
    }
  }
}

async function advance(
  s: ScheduleRow,
  next: Date,
  extra: { last_run_at?: string; last_skipped_at?: string },
  ctx: ControlContext,
): Promise<void> {
  await ctx.store.db
    .updateTable('schedules')
    .set({ next_run_at: next.toISOString(), ...extra })
    .where('id', '=', s.id)
    .execute()
}

/** Starts a deletion of `snaps` unless the environment is busy (then next tick). */
async function startDeletion(
  env: EnvironmentRow,
  snaps: readonly SnapshotRow[],
  reason: DeleteReason,
  ctx: ControlContext,
  report: { deletions: { environment: string; reason: DeleteReason; snapshots: number }[] },
): Promise<void> {
  if (snaps.length === 0) return
  if (await isBusy(env.project_id, env.name, ctx)) return
  const params: DeleteParams = {
    snapshots: snaps.map((s) => ({ id: s.id, fullId: s.full_id })),
    reason,
  }
  try {
    await insertActivity(
      newActivityRow(
        env,
        'environment.backup.delete',
        params,
        null,
        true,
        snaps.length === 1 ? snaps[0]!.id : null,
        ctx,
      ),
      undefined,
      ctx,
    )
    report.deletions.push({ environment: env.name, reason, snapshots: snaps.length })
  } catch (e) {
    if (!(e instanceof CofferError) || e.code !== 'env_busy') throw e
  }
}

async function expireAndThin(
  ctx: ControlContext,
  report: { deletions: { environment: string; reason: DeleteReason; snapshots: number }[] },
): Promise<void> {
  const now = ctx.now()
  const envs = await ctx.store.db
    .selectFrom('environments')
    .innerJoin('projects', 'projects.id', 'environments.project_id')
    .selectAll('environments')
    .select('projects.plan')
    .execute()
  for (const env of envs) {
    const snaps = await ctx.store.db
      .selectFrom('snapshots')
      .selectAll()
      .where('project_id', '=', env.project_id)
      .where('environment', '=', env.name)
      .where('deleted_at', 'is', null)
      .where('expired_at', 'is', null)
      .orderBy('created_at')
      .execute()
    // Manual snapshots past the restore window: their data is removed (they stay listed).
    const cutoff = now.getTime() - ctx.config.restoreWindowMs
    const expired = snaps.filter((s) => s.automated === 0 && Date.parse(s.created_at) < cutoff)
    if (expired.length > 0) {
      await startDeletion(env, expired, 'expiry', ctx, report)
      continue
    }
    // Automatic backups of Pro staging/production: the thinning policy.
    if (hasAutomaticBackups(env.plan, env.type)) {
      const automatic = snaps
        .filter((s) => s.automated === 1)
        .map((s) => ({ row: s, time: new Date(s.created_at) }))
      const plan = planThinning(automatic, now, ctx.config.thinning)
      await startDeletion(
        env,
        plan.remove.map((p) => p.row),
        'thinning',
        ctx,
        report,
      )
      continue
    }
    // Cron schedules: their retention over the snapshots they took.
    const schedules = await ctx.store.db
      .selectFrom('schedules')
      .selectAll()
      .where('project_id', '=', env.project_id)
      .where('environment', '=', env.name)
      .where('kind', '=', 'cron')
      .execute()
    const remove: SnapshotRow[] = []
    for (const s of schedules)
      remove.push(
        ...planRetention(
          snaps.filter((x) => x.schedule_id === s.id),
          s,
          now,
        ),
      )
    await startDeletion(env, remove, 'retention', ctx, report)
  }
}

/**
 * A cron schedule's retention, pure: keep the newest `keep_count` and every snapshot younger
 * than `keep_days` (a snapshot either rule keeps is kept); remove the rest.
 */
export function planRetention<T extends { readonly created_at: string }>(
  snaps: readonly T[],
  s: { readonly keep_count: number | null; readonly keep_days: number | null },
  now: Date,
): T[] {
  const newestFirst = [...snaps].sort((a, b) => b.created_at.localeCompare(a.created_at))
  return newestFirst.filter((x, i) => {
    const byCount = s.keep_count !== null && i < s.keep_count
    const byAge =
      s.keep_days !== null && now.getTime() - Date.parse(x.created_at) < s.keep_days * 86_400_000
    return !byCount && !byAge
  })
}

/**
 * The dead man's switch: a schedule whose backups have not succeeded for twice its interval
 * notifies the project's failure channels, once per silence (reset by the next success).
 */
async function deadMansSwitch(ctx: ControlContext, report: { alarms: string[] }): Promise<void> {
  const now = ctx.now()
  const schedules = await ctx.store.db.selectFrom('schedules').selectAll().execute()
  for (const s of schedules) {
    if (s.last_alarm_at) continue
    const cron = parseCron(s.cron)
    const since = Date.parse(s.last_success_at ?? s.created_at)
    const every = interval(cron, new Date(since))
    if (now.getTime() - since <= 2 * every) continue
    const env = await environment(s, ctx)
    if (!env || env.status !== 'active') continue
    await ctx.store.db
      .updateTable('schedules')
      .set({ last_alarm_at: now.toISOString() })
      .where('id', '=', s.id)
      .execute()
    report.alarms.push(s.id)
    const channels = await ctx.store.db
      .selectFrom('channels')
      .selectAll()
      .where('project_id', '=', s.project_id)
      .where('on_failure', '=', 1)
      .execute()
    const hours = Math.round((now.getTime() - since) / 3_600_000)
    ctx.log.warn(
      { schedule: s.id, project: s.project_id, environment: s.environment },
      'scheduled backups missed',
    )
    await enqueueNotification(
      {
        event: 'backups.missed',
        at: now.toISOString(),
        project: s.project_id,
        environment: s.environment,
        summary: `No scheduled backup of ${s.environment} has succeeded for ${hours} hours (${s.last_success_at ? `last success ${s.last_success_at}` : 'none yet'}).`,
      },
      channels,
      ctx,
    )
  }
}
