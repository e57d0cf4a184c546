import type { Logger } from '../lib/index.js'
import type { ActivityExecutor } from './ports.js'

/**
 * The activities this process is running. A graceful stop waits for them, then aborts the
 * stragglers (their activities end failed, "interrupted") and waits for them to record it.
 */
export class RunningSet {
  private readonly running = new Map<string, Promise<void>>()
  private readonly shutdown = new AbortController()

  constructor(
    private readonly executor: ActivityExecutor,
    private readonly log: Logger,
    private readonly onDone: () => void = () => {},
  ) {}

  get size(): number {
    return this.running.size
  }

  has(id: string): boolean {
    return this.running.has(id)
  }

  /** Starts an activity; the returned promise settles when it has ended (never rejects). */
  start(id: string): Promise<void> {
    const p = this.executor
      .execute(id, this.shutdown.signal)
      .catch((e: unknown) => this.log.error({ err: e, activityId: id }, 'activity runner failed'))
      .finally(() => {
        this.running.delete(id)
        this.onDone()
      })
    this.running.set(id, p)
    return p
  }

  /** Waits up to `graceMs` for running activities, then aborts them and waits again. */
  async stop(graceMs: number): Promise<void> {
    const all = (): Promise<unknown> => Promise.allSettled([...this.running.values()])
    if (this.running.size > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([all(), new Promise((r) => (timer = setTimeout(r, graceMs)))])
      clearTimeout(timer)
    }
    if (this.running.size > 0) {
      this.log.warn({ running: [...this.running.keys()] }, 'stopping running activities')
      const e = new Error('the server is stopping')
      e.name = 'AbortError'
      this.shutdown.abort(e)
      await all()
    }
  }
}
