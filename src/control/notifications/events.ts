import type { Kysely } from 'kysely'
import type { ChannelRow, Database } from '../../store/index.js'
import { activityView } from '../activity-view.js'
import type { ControlContext } from '../context.js'
import { newRowId } from '../ids.js'

/** What a notification says happened. */
export const NOTIFICATION_EVENTS = [
  'activity.succeeded',
  'activity.failed',
  'backups.missed',
  'test',
] as const
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number]

/** The JSON body of a webhook (and the facts of an e-mail). */
export interface NotificationBody {
  readonly event: NotificationEvent
  readonly at: string
  readonly project: string
  readonly environment?: string
  readonly summary: string
  readonly activity?: {
    readonly id: string
    readonly type: string
    readonly state: string
    readonly result: string | null
    readonly description: string
    readonly snapshot: string | null
    readonly error: { readonly code: string; readonly message: string } | null
  }
}

/** Queues one delivery per matching channel (the outbox survives restarts). */
export async function enqueueNotification(
  body: NotificationBody,
  channels: readonly ChannelRow[],
  ctx: ControlContext,
  db: Kysely<Database> = ctx.store.db,
): Promise<void> {
  const now = ctx.now().toISOString()
  for (const c of channels) {
    await db
      .insertInto('deliveries')
      .values({
        id: newRowId(),
        channel_id: c.id,
        event: JSON.stringify(body),
        attempts: 0,
        state: 'pending',
        next_attempt_at: now,
        last_error: null,
        created_at: now,
        delivered_at: null,
      })
      .execute()
  }
}

/**
 * After an activity ends: failures go to every channel of the project (the default),
 * successes to channels that asked for them. Cancellations are not notified.
 */
export async function notifyActivityFinished(
  activityId: string,
  ctx: ControlContext,
  db: Kysely<Database> = ctx.store.db,
): Promise<void> {
  const row = await db
    .selectFrom('activities')
    .selectAll()
    .where('id', '=', activityId)
    .executeTakeFirst()
  if (!row || row.state !== 'complete') return
  const failed = row.result === 'failure'
  const channels = await db
    .selectFrom('channels')
    .selectAll()
    .where('project_id', '=', row.project_id)
    .where(failed ? 'on_failure' : 'on_success', '=', 1)
    .execute()
  if (channels.length === 0) return
  const v = activityView(row)
  await enqueueNotification(
    {
      event: failed ? 'activity.failed' : 'activity.succeeded',
      at: ctx.now().toISOString(),
      project: row.project_id,
      environment: row.environment,
      summary: `${failed ? 'Failed' : 'Succeeded'}: ${v.description} (activity ${row.id})`,
      activity: {
        id: v.id,
        type: v.type,
        state: v.state,
        result: row.result,
        description: v.description,
        snapshot: v.snapshot,
        error: v.state === 'complete' ? v.error : null,
      },
    },
    channels,
    ctx,
    db,
  )
}
