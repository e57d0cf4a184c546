import type { Logger } from '../lib/index.js'
import type { Progress } from '../capture/index.js'
import type { ControlContext } from './context.js'

/** How often progress reaches the store at most: readers poll, writes must stay cheap. */
const PROGRESS_INTERVAL_MS = 500

/**
 * Writes what a running activity reports — log lines, in order, and progress, coalesced —
 * to the store, where the API and streams (in this or another process) read it. Callbacks
 * never throw into the operation: a failed write is logged and the operation goes on.
 */
export class ActivityRecorder {
  private chain: Promise<void> = Promise.resolve()
  private latest: Progress | undefined
  private written: Progress | undefined
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly activityId: string,
    private readonly ctx: ControlContext,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.enqueueProgress(), PROGRESS_INTERVAL_MS)
    this.timer.unref()
  }

  /** Appends a line to the activity's log (a sentence for users, never a secret). */
  readonly logLine = (line: string): void => {
    const at = this.ctx.now().toISOString()
    this.then(() => appendLogLine(this.activityId, line, at, this.ctx))
  }

  readonly progress = (p: Progress): void => {
    this.latest = p
  }

  private enqueueProgress(): void {
    const p = this.latest
    if (!p || p === this.written) return
    this.written = p
    this.then(async () => {
      await this.ctx.store.db
        .updateTable('activities')
        .set({
          bytes_done: Math.round(p.bytesDone),
          bytes_total: p.bytesTotal === undefined ? null : Math.round(p.bytesTotal),
          items_done: Math.round(p.itemsDone),
          items_total: p.itemsTotal === undefined ? null : Math.round(p.itemsTotal),
          phase: p.phase ?? null,
          updated_at: this.ctx.now().toISOString(),
        })
        .where('id', '=', this.activityId)
        .execute()
    })
  }

  private then(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((e: unknown) => {
      this.log.warn({ err: e }, 'activity record write failed')
    })
  }

  /** Writes everything still queued; call before the activity's final state. */
  async flush(): Promise<void> {
    clearInterval(this.timer)
    this.enqueueProgress()
    await this.chain
  }
}

/** Appends one line to an activity's log, numbering it atomically. */
export async function appendLogLine(
  activityId: string,
  line: string,
  at: string,
  ctx: ControlContext,
): Promise<void> {
  await ctx.store.db.transaction().execute(async (trx) => {
    const { log_count } = await trx
      .updateTable('activities')
      .set((eb) => ({ log_count: eb('log_count', '+', 1) }))
      .where('id', '=', activityId)
      .returning('log_count')
      .executeTakeFirstOrThrow()
    await trx
      .insertInto('activity_log')
      .values({ activity_id: activityId, seq: log_count, at, line })
      .execute()
  })
}
