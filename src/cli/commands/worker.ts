import type { Command } from 'commander'
import { InvalidInputError } from '../../errors.js'
import { err } from '../output.js'
import { interruptSignal } from '../signal.js'
import { runtimeKnobs, stopOnSignal } from './server-options.js'
import { startWorker } from './server-runtime.js'

/**
 * `coffer worker`: runs the activities of environments pinned to its labels (or of
 * unlabelled ones when given none) from the PostgreSQL queue it shares with `coffer serve`.
 */
export async function run(cmd: Command): Promise<void> {
  const o = cmd.opts<{
    dataDir: string
    store?: string
    storeSchema?: string
    label?: string[]
    concurrency: string
    logLevel?: string
  }>()
  if (!o.store) throw new InvalidInputError('store', 'coffer worker needs --store postgres://….')
  const signal = interruptSignal()
  const worker = await startWorker({
    dataDir: o.dataDir,
    store: o.store,
    ...(o.storeSchema ? { storeSchema: o.storeSchema } : {}),
    labels: o.label && o.label.length > 0 ? o.label : [null],
    concurrency: Number(o.concurrency),
    ...(o.logLevel ? { logLevel: o.logLevel } : {}),
    ...(process.env.COFFER_MASTER_KEY ? { masterKey: process.env.COFFER_MASTER_KEY } : {}),
    ...runtimeKnobs(process.env),
  })
  err(`Coffer worker started (labels: ${o.label?.join(', ') || 'unlabelled environments'})`)
  await stopOnSignal(signal, (graceMs) => worker.stop(graceMs))
}
