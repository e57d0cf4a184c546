import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { CofferError, messageOf } from '../errors.js'
import { processAlive } from '../lib/index.js'
import type { Repository } from '../repo/index.js'
import type { OpContext } from '../snapshots/index.js'
import type { ActivityRow, EnvironmentRow, ProjectRow } from '../store/index.js'
import { parseParams, type ActivityParams } from './activity-params.js'
import { ActivityRecorder, appendLogLine } from './activity-recorder.js'
import type { ControlContext, WorkerIdentity } from './context.js'
import { environmentSpec } from './environment-spec.js'
import { notifyActivityFinished } from './notifications/events.js'
import { projectRepository } from './projects.js'
import { sampleAfterActivity } from './repository-history-sampler.js'
import { pendingDecision, restoreCommitPoint } from './restore-decision.js'
import { recordSnapshot } from './snapshot-catalog.js'

/** How often a running activity says it is alive and looks for a cancel request. */
const HEARTBEAT_MS = 2_000
/** How long an operation waits for a repository lock held by another one (prune, backup). */
const LOCK_WAIT_MS = 10 * 60_000

/** Raised inside an activity when a user cancelled it. */
class CancelledError extends Error {
  constructor() {
    super('The activity was cancelled.')
    this.name = 'AbortError'
  }
}

export const INTERRUPTED_MESSAGE =
  'The activity was interrupted: the process running it stopped before it finished.'
export const SHUTDOWN_MESSAGE =
  'The activity was interrupted: the server was stopped before it finished.'

type Outcome =
  | { readonly kind: 'success'; readonly snapshotId: string | null }
  | { readonly kind: 'failure'; readonly code: string; readonly message: string }
  | { readonly kind: 'cancelled' }

/**
 * Runs one activity to its end (the executor src/jobs calls). Claims it first — pending to
 * in progress, atomically — and returns without doing anything when it is no longer pending
 * (cancelled meanwhile, or claimed by another worker). Never throws for a failure of the
 * operation: that is the activity's result. `signal` is the worker's shutdown.
 */
export async function executeActivity(
  activityId: string,
  worker: WorkerIdentity,
  signal: AbortSignal,
  ctx: ControlContext,
): Promise<void> {
  const started = ctx.now().toISOString()
  const claimed = await ctx.store.db
    .updateTable('activities')
    .set({
      state: 'in_progress',
      worker_id: worker.id,
      started_at: started,
      heartbeat_at: started,
      updated_at: started,
    })
    .where('id', '=', activityId)
    .where('state', '=', 'pending')
    .executeTakeFirst()
  if (Number(claimed.numUpdatedRows) === 0) return
  const row = await ctx.store.db
    .selectFrom('activities')
    .selectAll()
    .where('id', '=', activityId)
    .executeTakeFirstOrThrow()
  const log = ctx.log.child({ activityId, type: row.type, project: row.project_id })
  const recorder = new ActivityRecorder(activityId, ctx, log)
  const cancel = new AbortController()
  const opSignal = AbortSignal.any([signal, cancel.signal])
  const heartbeat = setInterval(() => {
    void beat(activityId, worker, cancel, ctx).catch((e: unknown) =>
      log.warn({ err: e }, 'heartbeat failed'),
    )
  }, HEARTBEAT_MS)
  heartbeat.unref()
  const op: OpContext = {
    signal: opSignal,
    log,
    now: ctx.now,
    progress: recorder.progress,
    logLine: recorder.logLine,
  }
  log.info({ environment: row.environment }, 'activity started')
  let outcome: Outcome
  try {
    outcome = await run(row, op, ctx)
  } catch (e) {
    if (cancel.signal.aborted) outcome = { kind: 'cancelled' }
    else if (signal.aborted)
      outcome = { kind: 'failure', code: 'interrupted', message: SHUTDOWN_MESSAGE }
    else if (e instanceof CofferError)
      outcome = { kind: 'failure', code: e.code, message: e.message }
    else {
      log.error({ err: e }, 'activity failed with an unexpected error')
      outcome = {
        kind: 'failure',
        code: 'internal',
        message:
          'The activity failed because of an internal error; the server log has the details.',
      }
    }
    if (outcome.kind === 'failure' && e instanceof CofferError)
      log.warn({ err: e, code: e.code }, 'activity failed')
  } finally {
    clearInterval(heartbeat)
  }
  if (outcome.kind === 'failure') recorder.logLine(outcome.message)
  if (outcome.kind === 'cancelled') recorder.logLine('The activity was cancelled.')
  await recorder.flush()
  await finish(row, outcome, ctx)
  log.info({ outcome: outcome.kind }, 'activity finished')
  // Once finished, not inside it: the repository's size history (never throws).
  await sampleAfterActivity(row, ctx, signal)
}

async function beat(
  activityId: string,
  worker: WorkerIdentity,
  cancel: AbortController,
  ctx: ControlContext,
): Promise<void> {
  const row = await ctx.store.db
    .updateTable('activities')
    .set({ heartbeat_at: ctx.now().toISOString() })
    .where('id', '=', activityId)
    .where('worker_id', '=', worker.id)
    .returning(['cancel_requested', 'state'])
    .executeTakeFirst()
  // Cancelled by a user, or taken from us (marked interrupted by another process).
  if (row?.cancel_requested === 1 || (row && row.state !== 'in_progress'))
    cancel.abort(new CancelledError())
}

/**
 * Records how an activity ended, the schedule's last success and the notifications, in one
 * transaction: a process that dies right after cannot leave a finished activity whose
 * failure nobody hears about.
 */
async function finish(row: ActivityRow, outcome: Outcome, ctx: ControlContext): Promise<void> {
  const now = ctx.now().toISOString()
  await ctx.store.db.transaction().execute(async (trx) => {
    const q = trx
      .updateTable('activities')
      .where('id', '=', row.id)
      .where('state', '=', 'in_progress')
    switch (outcome.kind) {
      case 'success':
        await q
          .set({
            state: 'complete',
            result: 'success',
            completed_at: now,
            updated_at: now,
            ...(outcome.snapshotId ? { snapshot_id: outcome.snapshotId } : {}),
          })
          .execute()
        break
      case 'failure':
        await q
          .set({
            state: 'complete',
            result: 'failure',
            error_code: outcome.code,
            error_message: outcome.message,
            completed_at: now,
            updated_at: now,
          })
          .execute()
        break
      case 'cancelled':
        await q.set({ state: 'cancelled', completed_at: now, updated_at: now }).execute()
        break
      default:
        outcome satisfies never
    }
    const params = parseParams(row.type, row.params)
    if (
      params.type === 'environment.backup' &&
      params.params.scheduleId &&
      outcome.kind === 'success'
    ) {
      await trx
        .updateTable('schedules')
        .set({ last_success_at: now, last_alarm_at: null })
        .where('id', '=', params.params.scheduleId)
        .execute()
    }
    await notifyActivityFinished(row.id, ctx, trx)
  })
}

async function loadContext(
  row: ActivityRow,
  ctx: ControlContext,
): Promise<{ project: ProjectRow; env: EnvironmentRow }> {
  const project = await ctx.store.db
    .selectFrom('projects')
    .selectAll()
    .where('id', '=', row.project_id)
    .executeTakeFirstOrThrow()
  const env = await ctx.store.db
    .selectFrom('environments')
    .selectAll()
    .where('project_id', '=', row.project_id)
    .where('name', '=', row.environment)
    .executeTakeFirstOrThrow()
  return { project, env }
}

async function run(row: ActivityRow, op: OpContext, ctx: ControlContext): Promise<Outcome> {
  const { project, env } = await loadContext(row, ctx)
  const spec = environmentSpec(env, ctx)
  const decided = pendingDecision(env, ctx)
  if (env.staging_dirty || env.restore_decision !== null) {
    await ctx.snapshots.cleanupStaging(spec, op, decided)
    await ctx.store.db
      .updateTable('environments')
      .set({ staging_dirty: 0, restore_decision: null })
      .where('project_id', '=', env.project_id)
      .where('name', '=', env.name)
      .execute()
  }
  const params = parseParams(row.type, row.params)
  const repo = await ctx.openRepository(projectRepository(project, ctx), op.signal)
  try {
    return await runOperation(row, params, repo, spec, project, op, ctx)
  } finally {
    await repo.close()
  }
}

async function runOperation(
  row: ActivityRow,
  p: ActivityParams,
  repo: Repository,
  spec: ReturnType<typeof environmentSpec>,
  project: ProjectRow,
  op: OpContext,
  ctx: ControlContext,
): Promise<Outcome> {
  switch (p.type) {
    case 'environment.backup': {
      const info = await whileLocked(op, () =>
        ctx.snapshots.createEnvironmentSnapshot(
          repo,
          spec,
          {
            live: p.params.live,
            automated: row.automated === 1,
            ...(row.created_by ? { createdBy: row.created_by } : {}),
          },
          op,
        ),
      )
      await recordSnapshot(project.id, info, p.params.scheduleId ?? null, ctx.store.db)
      return { kind: 'success', snapshotId: info.id }
    }
    case 'environment.restore': {
      const result = await whileLocked(op, () =>
        ctx.snapshots.restoreEnvironment(repo, p.params.snapshot.fullId, spec, p.params.only, op, {
          commitPoint: restoreCommitPoint(
            { project_id: row.project_id, name: row.environment },
            ctx,
          ),
        }),
      )
      return { kind: 'success', snapshotId: result.snapshot.id }
    }
    case 'environment.backup.delete': {
      await whileLocked(op, async () => {
        // A retry after a lock wait must not name snapshots the first try already removed.
        const present = new Set((await repo.listSnapshots(op.signal)).map((s) => s.id as string))
        const ids = p.params.snapshots.filter((s) => present.has(s.fullId)).map((s) => s.fullId)
        if (ids.length > 0) await ctx.snapshots.deleteSnapshots(repo, ids, op)
        repo.invalidateIndex()
      })
      const at = ctx.now().toISOString()
      await ctx.store.db
        .updateTable('snapshots')
        .set(p.params.reason === 'expiry' ? { expired_at: at } : { deleted_at: at })
        .where('project_id', '=', project.id)
        .where(
          'id',
          'in',
          p.params.snapshots.map((s) => s.id),
        )
        .execute()
      return {
        kind: 'success',
        snapshotId: p.params.snapshots.length === 1 ? p.params.snapshots[0]!.id : null,
      }
    }
    default:
      return p satisfies never
  }
}

/**
 * Runs `fn`, waiting and retrying while the repository is locked by another operation
 * (a prune holds it exclusively; a backup of another environment blocks a prune): both
 * take their lock before changing anything, so a retry starts clean.
 */
async function whileLocked<T>(op: OpContext, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS
  let delay = 500
  let told = false
  for (;;) {
    try {
      return await fn()
    } catch (e) {
      if (!(e instanceof CofferError) || e.code !== 'repo_locked' || Date.now() > deadline) throw e
      if (!told) op.logLine('Waiting for the repository, which another operation holds')
      told = true
      // Jittered: two operations that took their locks at the same moment see each other,
      // both step back, and with equal waits would collide again at every try (two
      // deletions started by one scheduler tick did, for minutes). The timer's listener on
      // the signal goes when it fires (one per wait would pile up).
      await sleep(delay * (0.5 + Math.random()), undefined, { signal: op.signal }).catch(() => {
        throw op.signal.reason as Error
      })
      delay = Math.min(delay * 2, 15_000)
    }
  }
}

/**
 * Fails the activities that a dead process left in progress ("interrupted"), so none hangs:
 * their heartbeat is older than `staleWorkerMs`, or they ran on this host under a process
 * that no longer runs, a zombie not yet reaped included (a restart after kill -9 needs no
 * wait). Each environment is marked for staging cleanup; where this process serves the
 * environment's label, the cleanup runs now (`cleanupStaging`), else the next activity on
 * the environment runs it first. Returns the IDs failed.
 */
export async function recoverInterrupted(
  worker: WorkerIdentity,
  ctx: ControlContext,
): Promise<string[]> {
  const now = ctx.now()
  const rows = await ctx.store.db
    .selectFrom('activities')
    .leftJoin('workers', 'workers.id', 'activities.worker_id')
    .select([
      'activities.id',
      'activities.project_id',
      'activities.environment',
      'activities.worker_id',
      'activities.heartbeat_at',
      'workers.hostname',
      'workers.pid',
    ])
    .where('activities.state', '=', 'in_progress')
    .execute()
  const failed: string[] = []
  for (const r of rows) {
    if (r.worker_id === worker.id) continue
    // The activity's own heartbeat: a live worker whose activity is stuck counts as dead too.
    const beat = Date.parse(r.heartbeat_at ?? '1970-01-01T00:00:00Z')
    const stale = now.getTime() - beat > ctx.config.staleWorkerMs
    const deadHere = r.hostname === hostname() && r.pid !== null && !processAlive(r.pid)
    if (!stale && !deadHere) continue
    const at = now.toISOString()
    const res = await ctx.store.db
      .updateTable('activities')
      .set({
        state: 'complete',
        result: 'failure',
        error_code: 'interrupted',
        error_message: INTERRUPTED_MESSAGE,
        completed_at: at,
        updated_at: at,
      })
      .where('id', '=', r.id)
      .where('state', '=', 'in_progress')
      .executeTakeFirst()
    if (Number(res.numUpdatedRows) === 0) continue
    failed.push(r.id)
    await appendLogLine(r.id, INTERRUPTED_MESSAGE, at, ctx)
    await ctx.store.db
      .updateTable('environments')
      .set({ staging_dirty: 1 })
      .where('project_id', '=', r.project_id)
      .where('name', '=', r.environment)
      .execute()
    ctx.log.warn({ activityId: r.id, project: r.project_id }, 'activity interrupted')
    await cleanIfServed(r.project_id, r.environment, worker, ctx)
    await notifyActivityFinished(r.id, ctx)
  }
  return failed
}

async function cleanIfServed(
  projectId: string,
  name: string,
  worker: WorkerIdentity,
  ctx: ControlContext,
): Promise<void> {
  const env = await ctx.store.db
    .selectFrom('environments')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('name', '=', name)
    .executeTakeFirst()
  if (!env || !worker.labels.includes(env.label)) return
  const log = ctx.log.child({ project: projectId, environment: name })
  try {
    await ctx.snapshots.cleanupStaging(
      environmentSpec(env, ctx),
      {
        signal: new AbortController().signal,
        log,
        now: ctx.now,
        progress: () => {},
        logLine: (line) => log.info({ line }, 'staging cleanup'),
      },
      pendingDecision(env, ctx),
    )
    await ctx.store.db
      .updateTable('environments')
      .set({ staging_dirty: 0, restore_decision: null })
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .execute()
  } catch (e) {
    log.error({ err: e, reason: messageOf(e) }, 'staging cleanup failed; the next activity retries')
  }
}
