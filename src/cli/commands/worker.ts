import type { Command } from 'commander'
import { err } from '../output.js'
import { interruptSignal } from '../signal.js'
import { runtimeKnobs, stopOnSignal, storeOf } from './server-options.js'
import { startWorker, type RunningWorker } from './server-runtime.js'
import type { WorkerMessage } from './worker-process.js'

/**
 * `coffer worker`: runs the activities of environments pinned to its labels (or of
 * unlabelled ones when given none) — from the PostgreSQL queue it shares with `coffer serve`,
 * or from the SQLite store of the data directory on the server's host. `coffer serve` starts
 * one as its child; then they speak over IPC (below).
 */
export async function run(cmd: Command): Promise<void> {
  const o = cmd.opts<{
    dataDir: string
    store?: string
    storeSchema?: string
    repos?: string
    label?: string[]
    unlabelled?: boolean
    concurrency: string
    logLevel?: string
  }>()
  const labels = o.label ?? []
  const unlabelled = labels.length === 0 || Boolean(o.unlabelled)
  const signal = interruptSignal()
  const worker = await startWorker({
    dataDir: o.dataDir,
    ...(storeOf(o.store) ? { store: storeOf(o.store)! } : {}),
    ...(o.storeSchema ? { storeSchema: o.storeSchema } : {}),
    ...(o.repos ? { reposBase: o.repos } : {}),
    labels: unlabelled ? [null, ...labels] : labels,
    concurrency: Number(o.concurrency),
    ...(o.logLevel ? { logLevel: o.logLevel } : {}),
    ...(process.env.COFFER_MASTER_KEY ? { masterKey: process.env.COFFER_MASTER_KEY } : {}),
    ...runtimeKnobs(process.env),
  })
  if (process.send) linkToServer(worker)
  else
    err(
      `Coffer worker started (labels: ${[...(unlabelled ? ['unlabelled environments'] : []), ...labels].join(', ')})`,
    )
  await stopOnSignal(signal, (graceMs) => worker.stop(graceMs))
}

/**
 * The worker of a `coffer serve`: says when it is ready, looks for work when the server
 * queued some, and exits at once when the server is gone (killed): a server's crash takes
 * its activities with it, and the next server fails them as interrupted.
 */
function linkToServer(worker: RunningWorker): void {
  process.on('message', (m: WorkerMessage) => {
    if (m.type === 'wake') worker.wake()
  })
  process.on('disconnect', () => {
    worker.control.log.error({}, 'coffer serve is gone; the worker stops at once')
    process.exit(70)
  })
  process.send!({ type: 'ready' } satisfies WorkerMessage)
  // The channel alone must not keep the process alive once the worker has stopped.
  process.channel?.unref()
}
