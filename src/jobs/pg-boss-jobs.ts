import { sql, type Kysely, type Transaction } from 'kysely'
import PgBoss from 'pg-boss'
import { CofferError } from '../errors.js'
import { silentLogger, type Logger } from '../lib/index.js'
import type { Database, Store } from '../store/index.js'
import { kyselyBossDb } from './kysely-boss-db.js'
import type { ActivityExecutor, WorkerIdentity } from './ports.js'
import { RunningSet } from './running-set.js'
import { registerWorker, unregisterWorker, workerHeartbeat } from './worker-registry.js'

/** The queue of activities of environments with `label` (null: unlabelled ones). */
export function queueName(label: string | null): string {
  return label === null ? 'coffer-activities' : `coffer-activities.${label}`
}

/** Where pg-boss keeps its tables, beside the store's schema. */
export function bossSchema(storeSchema: string): string {
  return storeSchema === 'public' ? 'pgboss' : `${storeSchema}_boss`
}

/** Deadlocks between queue creations are resolved by PostgreSQL cancelling one side. */
const QUEUE_CREATE_ATTEMPTS = 5
/** The advisory lock that serialises queue creation (an arbitrary constant of Coffer's). */
const QUEUE_CREATE_LOCK = 0x636f6666

function isDeadlock(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === '40P01'
}

interface ActivityJobData {
  readonly activityId: string
}

export interface PgBossJobsOptions {
  readonly store: Store
  readonly log?: Logger
  /** How often a worker polls its queues (seconds, at least 0.5). */
  readonly pollingIntervalSeconds?: number
}

/**
 * Activities through pg-boss, for a PostgreSQL store: `enqueue` writes the job inside the
 * transaction that inserts the activity (pg-boss's `db` option), and `work` lets this
 * process run the activities of the labels it serves — `coffer serve` and any number of
 * `coffer worker` processes share the queues. Jobs are not retried by pg-boss: an activity
 * that fails is the user's to retry, and one whose worker died is failed ("interrupted")
 * by the recovery.
 */
export class PgBossJobs {
  private readonly queues = new Map<string, Promise<void>>()
  private lastCreation: Promise<void> = Promise.resolve()
  private running: RunningSet | undefined
  private beat: NodeJS.Timeout | undefined
  private worker: WorkerIdentity | undefined
  private readonly log: Logger

  private constructor(
    private readonly boss: PgBoss,
    private readonly opts: PgBossJobsOptions,
  ) {
    this.log = opts.log ?? silentLogger
  }

  /** Connects pg-boss (installing or migrating its schema) beside the store. */
  static async start(opts: PgBossJobsOptions): Promise<PgBossJobs> {
    const pg = opts.store.postgres
    if (!pg) throw new CofferError('invalid_input', 'pg-boss needs a PostgreSQL store.')
    const boss = new PgBoss({
      connectionString: pg.connectionString,
      schema: bossSchema(pg.schema),
      max: 4,
      application_name: 'coffer',
      // Coffer runs its own scheduler and recovery; pg-boss only moves jobs.
      schedule: false,
    })
    const log = opts.log ?? silentLogger
    boss.on('error', (e) => log.warn({ err: e }, 'pg-boss error'))
    await boss.start()
    return new PgBossJobs(boss, opts)
  }

  /**
   * Creates the queue once per process. pg-boss creates a queue as a partition of its job
   * table, which takes locks on that table: two creations at the same moment deadlock
   * (seen with a server and two workers starting), so creations take turns under an advisory
   * lock, and one that still deadlocks with a transaction writing jobs tries again.
   */
  private ensureQueue(name: string): Promise<void> {
    let made = this.queues.get(name)
    if (!made) {
      // One at a time in this process too: each waits on the lock holding a store connection.
      made = this.lastCreation.catch(() => undefined).then(() => this.createQueue(name))
      this.lastCreation = made
      this.queues.set(name, made)
      made.catch(() => this.queues.delete(name))
    }
    return made
  }

  private async createQueue(name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        // One creation at a time across all processes sharing the store.
        await this.opts.store.db.connection().execute(async (conn) => {
          await sql`select pg_advisory_lock(${QUEUE_CREATE_LOCK})`.execute(conn)
          try {
            await this.boss.createQueue(name, { name, retryLimit: 0, expireInSeconds: 23 * 3600 })
          } finally {
            await sql`select pg_advisory_unlock(${QUEUE_CREATE_LOCK})`.execute(conn)
          }
        })
        return
      } catch (e) {
        if (!isDeadlock(e) || attempt >= QUEUE_CREATE_ATTEMPTS) throw e
        this.log.debug({ queue: name, attempt }, 'queue creation deadlocked; trying again')
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 50))
      }
    }
  }

  /** Creates the queue of `label` before the transaction that will enqueue to it. */
  async prepare(label: string | null): Promise<void> {
    await this.ensureQueue(queueName(label))
  }

  /** Writes the activity's job in the caller's transaction. */
  async enqueue(
    trx: Transaction<Database>,
    job: { readonly activityId: string; readonly label: string | null },
  ): Promise<void> {
    const name = queueName(job.label)
    await this.ensureQueue(name)
    const data: ActivityJobData = { activityId: job.activityId }
    await this.boss.send(name, data, {
      db: kyselyBossDb(trx as unknown as Kysely<unknown>),
      retryLimit: 0,
      expireInSeconds: 23 * 3600,
    })
  }

  /** Workers poll; nothing to wake. */
  wake(): void {}

  /**
   * Runs activities from the queues of `worker.labels`, `concurrency` at a time per queue,
   * after failing what dead workers left behind.
   */
  async work(
    worker: WorkerIdentity,
    executor: ActivityExecutor,
    opts: {
      readonly concurrency?: number
      readonly now?: () => Date
      readonly heartbeatMs?: number
    } = {},
  ): Promise<void> {
    const now = opts.now ?? (() => new Date())
    this.worker = worker
    this.running = new RunningSet(executor, this.log)
    const running = this.running
    await registerWorker(this.opts.store, worker, now)
    await executor.recover()
    this.beat = setInterval(() => {
      void (async () => {
        try {
          await workerHeartbeat(this.opts.store, worker.id, now)
          await executor.recover()
          await this.sweepPending(worker, running, (opts.concurrency ?? 2) * worker.labels.length)
        } catch (e) {
          this.log.warn({ err: e }, 'worker heartbeat failed')
        }
      })()
    }, opts.heartbeatMs ?? 10_000)
    for (const label of worker.labels) {
      const name = queueName(label)
      await this.ensureQueue(name)
      for (let i = 0; i < (opts.concurrency ?? 2); i++) {
        await this.boss.work<ActivityJobData>(
          name,
          { batchSize: 1, pollingIntervalSeconds: this.opts.pollingIntervalSeconds ?? 1 },
          async (jobs) => {
            for (const job of jobs) await running.start(job.data.activityId)
          },
        )
      }
    }
  }

  /**
   * A safety net under the queue: at each heartbeat, activities of this worker's labels that
   * are still pending (a job lost or not yet seen) are started here when there is room.
   * Starting is a claim (pending → in progress, atomically), so an activity never runs twice,
   * and its job, delivered later, finds nothing to do.
   */
  private async sweepPending(
    worker: WorkerIdentity,
    running: RunningSet,
    capacity: number,
  ): Promise<void> {
    const free = capacity - running.size
    if (free <= 0) return
    const named = worker.labels.filter((l): l is string => l !== null)
    const rows = await this.opts.store.db
      .selectFrom('activities')
      .select('id')
      .where('state', '=', 'pending')
      .where((eb) =>
        eb.or([
          ...(worker.labels.includes(null) ? [eb('label', 'is', null)] : []),
          ...(named.length > 0 ? [eb('label', 'in', named)] : []),
        ]),
      )
      .orderBy('created_at')
      .limit(free)
      .execute()
    for (const r of rows) if (!running.has(r.id)) void running.start(r.id)
  }

  /**
   * Stops: no new jobs; running activities get `graceMs`, then are interrupted (recorded as
   * failed); the worker row goes; pg-boss closes its pool.
   */
  async stop(graceMs = 30_000): Promise<void> {
    clearInterval(this.beat)
    for (const name of this.queues.keys()) await this.boss.offWork(name).catch(() => undefined)
    await this.running?.stop(graceMs)
    if (this.worker) await unregisterWorker(this.opts.store, this.worker.id)
    await this.boss.stop({ graceful: false, close: true, wait: true, timeout: 5_000 })
  }
}
