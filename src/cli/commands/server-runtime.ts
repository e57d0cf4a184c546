import { createHmac, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { DestinationStream } from 'pino'
import {
  createApp,
  createLogger,
  HttpMetrics,
  listen,
  type RunningServer,
} from '../../api/index.js'
import {
  DEFAULT_CONTROL_CONFIG,
  deliverDue,
  ensureAdminUser,
  executeActivity,
  loadMasterKey,
  repositories,
  recoverInterrupted,
  schedulerTick,
  SecretBox,
  syncCatalog,
  type ActivityQueuePort,
  type ControlConfig,
  type ControlContext,
  type PasswordCost,
  type SnapshotsPort,
  type WorkerIdentity,
} from '../../control/index.js'
import {
  InProcessQueue,
  PgBossJobs,
  PollingRunner,
  type ActivityExecutor,
} from '../../jobs/index.js'
import { messageOf } from '../../errors.js'
import type { Logger } from '../../lib/index.js'
import type { KdfParams, OpenBackendOptions } from '../../repo/index.js'
import { backendOptionsFromEnv } from '../repo-tools/repo-context.js'
import * as snapshots from '../../snapshots/index.js'
import { DEFAULT_THINNING } from '../../snapshots/index.js'
import { isPostgresLocation, openStore, type Store } from '../../store/index.js'
import { WorkerProcess, type CliLauncher } from './worker-process.js'

/** How `coffer serve` and `coffer worker` are set up (flags and environment, parsed). */
export interface RuntimeOptions {
  readonly dataDir: string
  /** PostgreSQL URL; absent: SQLite in the data directory. */
  readonly store?: string
  readonly storeSchema?: string
  /** Where new projects' repositories go: a directory or an `s3:` location (default DIR/repos). */
  readonly reposBase?: string
  /** Defaults for S3 repositories (default: from the environment, AWS_* variables). */
  readonly repoBackend?: OpenBackendOptions
  /** COFFER_MASTER_KEY, when given. */
  readonly masterKey?: string
  readonly logLevel?: string
  readonly logDestination?: DestinationStream
  /** Activities run at once by this process. */
  readonly concurrency?: number
  /** Labels this process serves; null = unlabelled environments. */
  readonly labels?: readonly (string | null)[]
  // Knobs for tests and benchmarks; the CLI reads them from COFFER_TEST_* variables.
  readonly now?: () => Date
  readonly repoKdf?: KdfParams
  readonly passwordCost?: PasswordCost
  readonly snapshots?: SnapshotsPort
  readonly pollMs?: number
  readonly heartbeatMs?: number
  readonly staleWorkerMs?: number
  readonly fetch?: typeof fetch
}

export interface ServeOptions extends RuntimeOptions {
  readonly host: string
  readonly port: number
  readonly tls?: { readonly cert: string; readonly key: string }
  /** COFFER_ADMIN_PASSWORD: on first start, creates the operator `admin`. */
  readonly adminPassword?: string
  /** Run activities here at all (default true); false: only `coffer worker`s run them. */
  readonly worker?: boolean
  /**
   * Run them in a child `coffer worker` process started this way (what the CLI does), so that
   * they never hold up the API's thread; absent: on this process's own thread.
   */
  readonly workerProcess?: { readonly cli: CliLauncher; readonly niceness: number }
  readonly schedulerIntervalMs?: number
  readonly deliveryIntervalMs?: number
  readonly consoleDir?: string
}

interface Core {
  readonly store: Store
  readonly control: ControlContext
  readonly log: Logger
  readonly worker: WorkerIdentity
  readonly executor: ActivityExecutor
  readonly jobs: { readonly boss?: PgBossJobs; readonly local?: InProcessQueue }
}

/** Store, secrets, queue and control context: what serve and worker share. */
async function startCore(opts: RuntimeOptions): Promise<Core> {
  const log = createLogger({
    ...(opts.logLevel ? { level: opts.logLevel } : {}),
    ...(opts.logDestination ? { destination: opts.logDestination } : {}),
  })
  const masterKey = await loadMasterKey(opts.dataDir, opts.masterKey)
  const store = await openStore({
    location: opts.store ?? join(opts.dataDir, 'coffer.db'),
    ...(opts.storeSchema ? { schema: opts.storeSchema } : {}),
    log: log.child({ module: 'store' }),
  })
  try {
    const postgres = isPostgresLocation(opts.store ?? '')
    const boss = postgres
      ? await PgBossJobs.start({
          store,
          log: log.child({ module: 'jobs' }),
          pollingIntervalSeconds: Math.max(0.5, (opts.pollMs ?? 1000) / 1000),
        })
      : undefined
    const local = postgres ? undefined : new InProcessQueue()
    const queue: ActivityQueuePort = boss ?? local!
    const repos = repositories({
      ...(opts.repoKdf ? { kdf: opts.repoKdf } : {}),
      backend: opts.repoBackend ?? (await backendOptionsFromEnv(process.env)),
    })
    const config: ControlConfig = {
      ...DEFAULT_CONTROL_CONFIG,
      reposBase: opts.reposBase ?? join(opts.dataDir, 'repos'),
      thinning: DEFAULT_THINNING,
      ...(opts.passwordCost ? { passwordCost: opts.passwordCost } : {}),
      ...(opts.staleWorkerMs ? { staleWorkerMs: opts.staleWorkerMs } : {}),
    }
    const control: ControlContext = {
      store,
      secrets: new SecretBox(masterKey),
      queue,
      snapshots: opts.snapshots ?? snapshots,
      openRepository: repos.open,
      initRepository: repos.init,
      fetch: opts.fetch ?? fetch,
      now: opts.now ?? (() => new Date()),
      log: log.child({ module: 'control' }),
      config,
      // The CSRF key is derived from the master key, so every server of a cluster agrees.
      csrfKey: createHmac('sha256', masterKey).update('coffer csrf v1').digest(),
    }
    const worker: WorkerIdentity = {
      id: randomBytes(8).toString('hex'),
      labels: opts.labels ?? [null],
    }
    const executor: ActivityExecutor = {
      execute: (id, signal) => executeActivity(id, worker, signal, control),
      recover: () => recoverInterrupted(worker, control),
    }
    return {
      store,
      control,
      log,
      worker,
      executor,
      jobs: { ...(boss ? { boss } : {}), ...(local ? { local } : {}) },
    }
  } catch (e) {
    await store.close()
    throw e
  }
}

export interface RunningCoffer {
  readonly url: string
  readonly control: ControlContext
  readonly log: Logger
  /** Graceful stop: no new requests or activities; running ones get `graceMs`. */
  stop(graceMs?: number): Promise<void>
}

/**
 * Starts `coffer serve`: API and console, scheduler, notification delivery, and (unless
 * `worker: false`) a runner of activities — in process with SQLite, through pg-boss with
 * PostgreSQL. On start, activities a dead process left in progress are failed.
 */
export async function startServe(opts: ServeOptions): Promise<RunningCoffer> {
  const core = await startCore(opts)
  const { control, log } = core
  let stopping = false
  const child =
    opts.worker !== false && opts.workerProcess
      ? new WorkerProcess({
          cli: opts.workerProcess.cli,
          args: workerArgs(opts),
          niceness: opts.workerProcess.niceness,
          log: log.child({ module: 'jobs' }),
          env: {
            ...(opts.masterKey ? { COFFER_MASTER_KEY: opts.masterKey } : {}),
            COFFER_STORE: opts.store ?? '',
          },
        })
      : undefined
  const runner =
    opts.worker === false || child || !core.jobs.local ? undefined : pollingRunner(core, opts)
  let server: RunningServer | undefined
  const timers: NodeJS.Timeout[] = []
  try {
    if (opts.adminPassword && (await ensureAdminUser(opts.adminPassword, control)))
      log.info({ user: 'admin' }, 'operator admin created')
    if (child) {
      core.jobs.local?.attach(child)
      await child.start()
    } else if (runner) {
      core.jobs.local?.attach(runner)
      await runner.start()
    } else if (core.jobs.boss && opts.worker !== false) {
      await core.jobs.boss.work(core.worker, core.executor, {
        concurrency: opts.concurrency ?? 2,
        now: control.now,
        ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
      })
    } else {
      await core.executor.recover()
    }
    const app = createApp({
      control,
      log,
      tls: Boolean(opts.tls),
      metrics: new HttpMetrics(),
      stopping: () => stopping,
      ...(opts.consoleDir ? { consoleDir: opts.consoleDir } : {}),
      ...(opts.pollMs ? { streamPollMs: Math.min(opts.pollMs, 300) } : {}),
    })
    server = await listen(app, {
      host: opts.host,
      port: opts.port,
      ...(opts.tls ? { tls: opts.tls } : {}),
    })
    let ticking = false
    timers.push(
      setInterval(() => {
        if (ticking) return
        ticking = true
        schedulerTick(control)
          .then((r) => {
            if (r.started.length + r.deletions.length + r.alarms.length > 0)
              log.info({ ...r }, 'scheduler tick')
          })
          .catch((e: unknown) => log.error({ err: e }, 'scheduler tick failed'))
          .finally(() => (ticking = false))
      }, opts.schedulerIntervalMs ?? 30_000),
    )
    let delivering = false
    timers.push(
      setInterval(() => {
        if (delivering) return
        delivering = true
        deliverDue(control)
          .catch((e: unknown) => log.error({ err: e }, 'notification delivery failed'))
          .finally(() => (delivering = false))
      }, opts.deliveryIntervalMs ?? 2_000),
    )
    for (const t of timers) t.unref()
    // The catalog catches up with snapshots it missed (a crash between a snapshot's commit
    // and its record): in the background, one project after the other.
    void syncAllCatalogs(control, log)
    log.info({ address: server.url, dialect: core.store.dialect }, 'coffer serve listening')
  } catch (e) {
    for (const t of timers) clearInterval(t)
    await server?.close(0)
    await child?.stop(0)
    await runner?.stop(0)
    await core.jobs.boss?.stop(0)
    await core.store.close()
    throw e
  }
  const running = server
  return {
    url: running.url,
    control,
    log,
    stop: async (graceMs = 30_000) => {
      stopping = true
      for (const t of timers) clearInterval(t)
      await running.close(Math.min(graceMs, 5_000))
      await child?.stop(graceMs)
      await runner?.stop(graceMs)
      await core.jobs.boss?.stop(graceMs)
      await core.store.close()
      log.info({}, 'coffer serve stopped')
    },
  }
}

/** The runner of activities of the SQLite store, in this process. */
function pollingRunner(core: Core, opts: RuntimeOptions): PollingRunner {
  return new PollingRunner({
    store: core.store,
    worker: core.worker,
    executor: core.executor,
    concurrency: opts.concurrency ?? 2,
    ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
    ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
    now: core.control.now,
    log: core.log.child({ module: 'jobs' }),
  })
}

/** The `coffer worker` arguments of the child worker of a `coffer serve` with `opts`. */
function workerArgs(opts: ServeOptions): string[] {
  // The store's URL (which may hold a password) goes by the environment: workerEnv.
  const args = ['--data-dir', opts.dataDir, '--concurrency', String(opts.concurrency ?? 2)]
  if (opts.storeSchema) args.push('--store-schema', opts.storeSchema)
  if (opts.reposBase) args.push('--repos', opts.reposBase)
  if (opts.logLevel) args.push('--log-level', opts.logLevel)
  for (const label of opts.labels ?? [null])
    args.push(...(label === null ? ['--unlabelled'] : ['--label', label]))
  return args
}

async function syncAllCatalogs(control: ControlContext, log: Logger): Promise<void> {
  try {
    const projects = await control.store.db.selectFrom('projects').selectAll().execute()
    for (const p of projects) {
      try {
        const r = await syncCatalog(p, control)
        if (r.added + r.removed > 0) log.info({ project: p.id, ...r }, 'catalog synchronised')
      } catch (e) {
        log.warn({ project: p.id, reason: messageOf(e) }, 'catalog synchronisation failed')
      }
    }
  } catch (e) {
    log.warn({ reason: messageOf(e) }, 'catalog synchronisation failed')
  }
}

export interface RunningWorker {
  readonly control: ControlContext
  /** Looks for pending activities now (after the server queued one). */
  wake(): void
  stop(graceMs?: number): Promise<void>
}

/**
 * Starts `coffer worker`: runs the activities of its labels — from the shared pg-boss queues
 * with PostgreSQL, from the activities table of the data directory's SQLite store otherwise
 * (a worker on the server's own host, such as the one `coffer serve` starts).
 */
export async function startWorker(opts: RuntimeOptions): Promise<RunningWorker> {
  const core = await startCore(opts)
  const boss = core.jobs.boss
  const runner = boss ? undefined : pollingRunner(core, opts)
  try {
    if (runner) {
      core.jobs.local?.attach(runner)
      await runner.start()
    } else {
      await boss!.work(core.worker, core.executor, {
        concurrency: opts.concurrency ?? 2,
        now: core.control.now,
        ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
      })
    }
  } catch (e) {
    await runner?.stop(0)
    await boss?.stop(0)
    await core.store.close()
    throw e
  }
  core.log.info(
    { labels: core.worker.labels, worker: core.worker.id, dialect: core.store.dialect },
    'coffer worker started',
  )
  return {
    control: core.control,
    wake: () => runner?.wake(),
    stop: async (graceMs = 30_000) => {
      await runner?.stop(graceMs)
      await boss?.stop(graceMs)
      await core.store.close()
      core.log.info({}, 'coffer worker stopped')
    },
  }
}
