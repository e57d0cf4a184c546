import { silentLogger, type Logger } from '../lib/index.js'
import type { Store } from '../store/index.js'
import type { ActivityExecutor, WorkerIdentity } from './ports.js'
import { RunningSet } from './running-set.js'
import { registerWorker, unregisterWorker, workerHeartbeat } from './worker-registry.js'

export interface RunnerOptions {
  readonly store: Store
  readonly worker: WorkerIdentity
  readonly executor: ActivityExecutor
  /** Activities run at once by this process (different environments). */
  readonly concurrency?: number
  /** How often the store is looked at without a wake-up (ms). */
  readonly pollMs?: number
  /** How often the worker says it is alive and looks for interrupted activities (ms). */
  readonly heartbeatMs?: number
  readonly now?: () => Date
  readonly log?: Logger
}

/**
 * Runs activities in this process (the embedded default, with SQLite): the pending rows of
 * the activities table are the queue. `wake` (called after an insert commits) starts work
 * at once; a slow poll catches anything else (activities left pending by a restart).
 * Claiming is an atomic update in the executor, so even two runners on one database would
 * not run an activity twice.
 */
export class PollingRunner {
  private readonly running: RunningSet
  private readonly log: Logger
  private readonly now: () => Date
  private timer: NodeJS.Timeout | undefined
  private beat: NodeJS.Timeout | undefined
  private stopped = false
  private scanning: Promise<void> | undefined
  private again = false

  constructor(private readonly opts: RunnerOptions) {
    this.log = opts.log ?? silentLogger
    this.now = opts.now ?? (() => new Date())
    this.running = new RunningSet(opts.executor, this.log, () => this.wake())
  }

  /** Registers the worker, fails what a dead process left in progress, starts polling. */
  async start(): Promise<void> {
    await registerWorker(this.opts.store, this.opts.worker, this.now)
    await this.opts.executor.recover()
    this.timer = setInterval(() => this.wake(), this.opts.pollMs ?? 1_000)
    this.beat = setInterval(() => {
      void this.heartbeat()
    }, this.opts.heartbeatMs ?? 10_000)
    this.wake()
  }

  private async heartbeat(): Promise<void> {
    try {
      await workerHeartbeat(this.opts.store, this.opts.worker.id, this.now)
      await this.opts.executor.recover()
    } catch (e) {
      this.log.warn({ err: e }, 'worker heartbeat failed')
    }
  }

  /** Looks for pending activities now (coalesced: one scan at a time). */
  wake(): void {
    if (this.stopped) return
    if (this.scanning) {
      this.again = true
      return
    }
    this.scanning = this.scan()
      .catch((e: unknown) => this.log.error({ err: e }, 'looking for pending activities failed'))
      .finally(() => {
        this.scanning = undefined
        if (this.again) {
          this.again = false
          this.wake()
        }
      })
  }

  private async scan(): Promise<void> {
    const free = (this.opts.concurrency ?? 2) - this.running.size
    if (free <= 0) return
    const labels = this.opts.worker.labels
    const named = labels.filter((l): l is string => l !== null)
    const rows = await this.opts.store.db
      .selectFrom('activities')
      .select('id')
      .where('state', '=', 'pending')
      .where((eb) =>
        eb.or([
          ...(labels.includes(null) ? [eb('label', 'is', null)] : []),
          ...(named.length > 0 ? [eb('label', 'in', named)] : []),
        ]),
      )
      .orderBy('created_at')
      .limit(free + this.running.size)
      .execute()
    for (const r of rows) {
      if (this.stopped || this.running.size >= (this.opts.concurrency ?? 2)) break
      if (!this.running.has(r.id)) void this.running.start(r.id)
    }
  }

  /** Stops taking work; waits `graceMs` for running activities, then interrupts them. */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    clearInterval(this.beat)
    await this.scanning
    await this.running.stop(graceMs)
    await unregisterWorker(this.opts.store, this.opts.worker.id)
  }
}

/** The queue port of the embedded mode: pending rows are the queue; `wake` pokes the runner. */
export class InProcessQueue {
  private runner: { wake(): void } | undefined

  /** What runs the activities: a runner in this process, or one in a child process. */
  attach(runner: { wake(): void }): void {
    this.runner = runner
  }

  async prepare(): Promise<void> {
    // Nothing to create: the activities table is the queue.
  }

  async enqueue(): Promise<void> {
    // Nothing to write: the activity row, inserted in the same transaction, is the job.
  }

  wake(): void {
    this.runner?.wake()
  }
}
