import { CofferError, NotFoundError } from '../errors.js'
import {
  BUSY_STATES,
  isUniqueViolation,
  type ActivityLogRow,
  type ActivityRow,
  type ActivityState,
  type ActivityType,
  type EnvironmentRow,
  type NewActivity,
} from '../store/index.js'
import { accessOf, atLeast, environmentFor, projectFor, type Access } from './access.js'
import type { Actor } from './actor.js'
import type { DeleteParams, RestoreParams } from './activity-params.js'
import { activityView, type ActivityView } from './activity-view.js'
import { recordAudit, type AuditEntry } from './audit.js'
import type { ControlContext } from './context.js'
import { newActivityId, parseActivityId } from './ids.js'
import { decodeCursor, encodeCursor, type Page, type PageRequest } from './paging.js'
import { decide, MESSAGES, stateRefusal, type SnapshotAction } from './rules.js'
import { backupView, findSnapshot } from './snapshot-catalog.js'
import type { RestorePart } from '../snapshots/index.js'

const MAX_ID_ATTEMPTS = 5

/** The weaker of two roles (a restore needs admin on the source and on the target). */
function weaker(a: Access, b: Access): Access {
  if (a === 'none' || b === 'none') return 'none'
  return atLeast(a, b) ? b : a
}

function refuse(v: { allowed: false; code: CofferError['code']; message: string }): never {
  throw new CofferError(v.code, v.message)
}

/**
 * Inserts a pending activity and enqueues its job in one transaction. The partial unique
 * index `activities_one_busy` makes "one activity at a time per environment" race-free:
 * of two concurrent requests exactly one commits, the other gets `env_busy`.
 */
export async function insertActivity(
  row: Omit<NewActivity, 'id'>,
  audit: { who: Actor; entry: AuditEntry } | undefined,
  ctx: ControlContext,
): Promise<ActivityRow> {
  await ctx.queue.prepare(row.label ?? null)
  for (let attempt = 1; ; attempt++) {
    const id = newActivityId()
    try {
      await ctx.store.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('activities')
          .values({ ...row, id })
          .execute()
        await ctx.queue.enqueue(trx, { activityId: id, label: row.label ?? null })
        if (audit)
          await recordAudit(
            audit.who,
            { ...audit.entry, detail: { ...audit.entry.detail, activity: id } },
            ctx,
            trx,
          )
      })
    } catch (e) {
      if (isUniqueViolation(e, 'activities_one_busy'))
        throw new CofferError('env_busy', MESSAGES.busy, { cause: e })
      if (isUniqueViolation(e, 'activities_pkey') && attempt < MAX_ID_ATTEMPTS) continue
      throw e
    }
    ctx.queue.wake()
    return ctx.store.db
      .selectFrom('activities')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  }
}

function newActivityRow(
  env: EnvironmentRow,
  type: ActivityType,
  params: unknown,
  by: string | null,
  automated: boolean,
  snapshotId: string | null,
  ctx: ControlContext,
): Omit<NewActivity, 'id'> {
  const now = ctx.now().toISOString()
  return {
    project_id: env.project_id,
    environment: env.name,
    type,
    state: 'pending',
    result: null,
    automated: automated ? 1 : 0,
    created_by: by,
    params: JSON.stringify(params),
    snapshot_id: snapshotId,
    error_code: null,
    error_message: null,
    bytes_total: null,
    items_total: null,
    phase: null,
    worker_id: null,
    heartbeat_at: null,
    label: env.label,
    created_at: now,
    started_at: null,
    completed_at: null,
    updated_at: now,
  }
}

/**
 * A person asks for a manual snapshot of an environment (PRODUCT.md, "Taking a snapshot").
 * Refusals, in order: no access; not admin; Pro staging/production; inactive; busy.
 */
export async function requestSnapshot(
  actor: Actor,
  projectId: string,
  environment: string,
  input: { readonly live: boolean },
  ctx: ControlContext,
): Promise<ActivityView> {
  const {
    project,
    environment: env,
    access,
  } = await environmentFor(actor, projectId, environment, 'viewer', ctx)
  check('create', access, actor, project.plan, env, 'manual')
  const verdict = stateRefusal({ action: 'create', environmentActive: env.status === 'active' })
  if (!verdict.allowed) refuse(verdict)
  const row = await insertActivity(
    newActivityRow(env, 'environment.backup', { live: input.live }, actor.name, false, null, ctx),
    {
      who: actor,
      entry: {
        action: 'backup.create',
        project: projectId,
        environment,
        detail: { live: input.live },
      },
    },
    ctx,
  )
  return activityView(row)
}

function check(
  action: SnapshotAction,
  access: Access,
  actor: Actor,
  plan: 'starter' | 'pro',
  env: EnvironmentRow,
  trigger: 'manual' | 'automatic',
): void {
  const v = decide({
    action,
    plan,
    environmentType: env.type,
    trigger,
    requester: { kind: 'user', role: access, operator: actor.operator },
  })
  if (!v.allowed) refuse(v)
}

/**
 * A person asks to restore a snapshot of `environment` into `target` (default: the same
 * environment). Needs admin on both; automatic backups of Pro staging/production need an
 * operator; the target must be active and idle; a manual snapshot must be within its window.
 */
export async function requestRestore(
  actor: Actor,
  projectId: string,
  environment: string,
  snapshotId: string,
  input: { readonly target?: string; readonly only?: readonly RestorePart[] },
  ctx: ControlContext,
): Promise<ActivityView> {
  const src = await environmentFor(actor, projectId, environment, 'viewer', ctx)
  const tgt =
    input.target && input.target !== environment
      ? await environmentFor(actor, projectId, input.target, 'viewer', ctx)
      : src
  const snap = await findSnapshot(projectId, environment, snapshotId, ctx)
  check(
    'restore',
    weaker(src.access, tgt.access),
    actor,
    src.project.plan,
    src.environment,
    snap.automated ? 'automatic' : 'manual',
  )
  const view = backupView(snap, ctx.now(), ctx.config.restoreWindowMs)
  const verdict = stateRefusal({
    action: 'restore',
    environmentActive: tgt.environment.status === 'active',
    snapshot: { id: snap.id, restorable: view.restorable },
  })
  if (!verdict.allowed) refuse(verdict)
  const params: RestoreParams = {
    snapshot: { id: snap.id, fullId: snap.full_id },
    source: environment,
    only: [...(input.only ?? [])],
  }
  const row = await insertActivity(
    newActivityRow(tgt.environment, 'environment.restore', params, actor.name, false, snap.id, ctx),
    {
      who: actor,
      entry: {
        action: 'backup.restore',
        project: projectId,
        environment: tgt.environment.name,
        target: snap.id,
        detail: { source: environment },
      },
    },
    ctx,
  )
  return activityView(row)
}

/** A person asks to delete a snapshot (forget and prune its data). */
export async function requestDeleteSnapshot(
  actor: Actor,
  projectId: string,
  environment: string,
  snapshotId: string,
  ctx: ControlContext,
): Promise<ActivityView> {
  const {
    project,
    environment: env,
    access,
  } = await environmentFor(actor, projectId, environment, 'viewer', ctx)
  const snap = await findSnapshot(projectId, environment, snapshotId, ctx)
  check('delete', access, actor, project.plan, env, snap.automated ? 'automatic' : 'manual')
  if (snap.expired_at)
    throw new CofferError(
      'conflict',
      `The snapshot ${snap.id} has expired: its data is already removed.`,
    )
  const params: DeleteParams = {
    snapshots: [{ id: snap.id, fullId: snap.full_id }],
    reason: 'user',
  }
  const row = await insertActivity(
    newActivityRow(env, 'environment.backup.delete', params, actor.name, false, snap.id, ctx),
    {
      who: actor,
      entry: { action: 'backup.delete', project: projectId, environment, target: snap.id },
    },
    ctx,
  )
  return activityView(row)
}

/** Filters of an activity list. */
export interface ActivityFilter extends PageRequest {
  readonly environment?: string
  readonly type?: ActivityType
  readonly state?: ActivityState
}

/** Activities of a project (or one environment), newest first, that the actor may see. */
export async function listActivities(
  actor: Actor,
  projectId: string,
  filter: ActivityFilter,
  ctx: ControlContext,
): Promise<Page<ActivityView>> {
  if (filter.environment) await environmentFor(actor, projectId, filter.environment, 'viewer', ctx)
  else await projectFor(actor, projectId, 'viewer', ctx)
  let q = ctx.store.db.selectFrom('activities').selectAll().where('project_id', '=', projectId)
  if (filter.environment) q = q.where('environment', '=', filter.environment)
  else if (!actor.operator) {
    // Environments whose override takes the user's access away stay hidden.
    const hidden = await hiddenEnvironments(actor, projectId, ctx)
    if (hidden.length > 0) q = q.where('environment', 'not in', hidden)
  }
  if (filter.type) q = q.where('type', '=', filter.type)
  if (filter.state) q = q.where('state', '=', filter.state)
  const after = decodeCursor(filter.cursor)
  if (after)
    q = q.where((eb) =>
      eb.or([
        eb('created_at', '<', after.at),
        eb.and([eb('created_at', '=', after.at), eb('id', '<', after.id)]),
      ]),
    )
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit + 1)
    .execute()
  const last = rows.length > filter.limit ? rows[filter.limit - 1] : undefined
  return {
    items: rows.slice(0, filter.limit).map(activityView),
    nextCursor: last ? encodeCursor(last.created_at, last.id) : null,
  }
}

async function hiddenEnvironments(
  actor: Actor,
  projectId: string,
  ctx: ControlContext,
): Promise<string[]> {
  const envs = await ctx.store.db
    .selectFrom('environments')
    .select('name')
    .where('project_id', '=', projectId)
    .execute()
  const hidden: string[] = []
  for (const e of envs)
    if ((await accessOf(actor, projectId, e.name, ctx)) === 'none') hidden.push(e.name)
  return hidden
}

/** Loads an activity of a project that the actor may see (viewer on its environment). */
export async function activityFor(
  actor: Actor,
  projectId: string,
  id: string,
  ctx: ControlContext,
): Promise<{ row: ActivityRow; access: Access }> {
  await projectFor(actor, projectId, 'viewer', ctx)
  const aid = parseActivityId(id)
  const row = aid
    ? await ctx.store.db
        .selectFrom('activities')
        .selectAll()
        .where('id', '=', aid)
        .where('project_id', '=', projectId)
        .executeTakeFirst()
    : undefined
  if (!row) throw new NotFoundError(`The activity ${id} does not exist.`)
  const { access } = await environmentFor(actor, projectId, row.environment, 'viewer', ctx)
  return { row, access }
}

export async function getActivity(
  actor: Actor,
  projectId: string,
  id: string,
  ctx: ControlContext,
): Promise<ActivityView> {
  return activityView((await activityFor(actor, projectId, id, ctx)).row)
}

export interface LogLine {
  readonly seq: number
  readonly at: string
  readonly line: string
}

/** Log lines of an activity after `after` (a sequence number), oldest first. */
export async function activityLog(
  actor: Actor,
  projectId: string,
  id: string,
  opts: { readonly after?: number; readonly limit?: number },
  ctx: ControlContext,
): Promise<LogLine[]> {
  const { row } = await activityFor(actor, projectId, id, ctx)
  return readLog(row.id, opts.after ?? 0, opts.limit ?? 1000, ctx)
}

/** Log lines without an access check: for callers that already checked (streams). */
export async function readLog(
  activityId: string,
  after: number,
  limit: number,
  ctx: ControlContext,
): Promise<LogLine[]> {
  const rows: Pick<ActivityLogRow, 'seq' | 'at' | 'line'>[] = await ctx.store.db
    .selectFrom('activity_log')
    .select(['seq', 'at', 'line'])
    .where('activity_id', '=', activityId)
    .where('seq', '>', after)
    .orderBy('seq')
    .limit(limit)
    .execute()
  return rows
}

/** Reads an activity without an access check: for streams that checked once. */
export async function readActivity(
  id: string,
  ctx: ControlContext,
): Promise<ActivityView | undefined> {
  const row = await ctx.store.db
    .selectFrom('activities')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst()
  return row ? activityView(row) : undefined
}

/**
 * Cancels an activity (admins of its environment, or the person who started it). A pending
 * one is cancelled at once; a running one is asked to stop, which it does at its next
 * check — a restore only before its switch (after it, the restore completes).
 */
export async function cancelActivity(
  actor: Actor,
  projectId: string,
  id: string,
  ctx: ControlContext,
): Promise<ActivityView> {
  const { row, access } = await activityFor(actor, projectId, id, ctx)
  if (!atLeast(access, 'admin') && row.created_by !== actor.name)
    throw new CofferError('not_admin', 'You must be an administrator to cancel an activity.')
  const now = ctx.now().toISOString()
  const pending = await ctx.store.db
    .updateTable('activities')
    .set({ state: 'cancelled', completed_at: now, updated_at: now })
    .where('id', '=', row.id)
    .where('state', '=', 'pending')
    .executeTakeFirst()
  if (Number(pending.numUpdatedRows) === 0) {
    const running = await ctx.store.db
      .updateTable('activities')
      .set({ cancel_requested: 1, updated_at: now })
      .where('id', '=', row.id)
      .where('state', '=', 'in_progress')
      .executeTakeFirst()
    if (Number(running.numUpdatedRows) === 0)
      throw new CofferError('conflict', `The activity ${row.id} has already finished.`)
  }
  await recordAudit(
    actor,
    { action: 'activity.cancel', project: projectId, environment: row.environment, target: row.id },
    ctx,
  )
  return getActivity(actor, projectId, id, ctx)
}

/** Whether an environment has an activity pending or in progress. */
export async function isBusy(
  projectId: string,
  environment: string,
  ctx: ControlContext,
): Promise<boolean> {
  const row = await ctx.store.db
    .selectFrom('activities')
    .select('id')
    .where('project_id', '=', projectId)
    .where('environment', '=', environment)
    .where('state', 'in', BUSY_STATES)
    .executeTakeFirst()
  return row !== undefined
}

export { newActivityRow }
