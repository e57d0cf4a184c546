import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { InvalidInputError } from '../../errors.js'
import { err } from '../output.js'
import { interruptSignal } from '../signal.js'
import { parseListen, runtimeKnobs, stopOnSignal, storeOf } from './server-options.js'
import { startServe } from './server-runtime.js'
import { currentCli } from './worker-process.js'

/** The console built by `npm run build:web`, served at / unless --console-dir says otherwise. */
const BUILT_CONSOLE = fileURLToPath(new URL('../../../web/dist', import.meta.url))

/**
 * `coffer serve`: API, console and scheduler, and a child `coffer worker` process that runs
 * the activities (or runs them itself with --worker-in-process). Reads
 * COFFER_ADMIN_PASSWORD (first start: creates the operator `admin`) and COFFER_MASTER_KEY.
 */
export async function run(cmd: Command): Promise<void> {
  const o = cmd.opts<{
    dataDir: string
    listen: string
    store?: string
    storeSchema?: string
    repos?: string
    tlsCert?: string
    tlsKey?: string
    concurrency: string
    logLevel?: string
    worker: boolean
    workerInProcess?: boolean
    workerNice: string
    label?: string[]
    consoleDir?: string
  }>()
  if (Boolean(o.tlsCert) !== Boolean(o.tlsKey))
    throw new InvalidInputError('tls', '--tls-cert and --tls-key go together.')
  const { host, port } = parseListen(o.listen)
  const niceness = Number(o.workerNice)
  if (!Number.isInteger(niceness) || niceness < 0 || niceness > 19)
    throw new InvalidInputError(
      'worker-nice',
      `--worker-nice wants 0 to 19, not "${o.workerNice}".`,
    )
  const consoleDir =
    o.consoleDir ?? (existsSync(`${BUILT_CONSOLE}/index.html`) ? BUILT_CONSOLE : undefined)
  const signal = interruptSignal()
  const coffer = await startServe({
    dataDir: o.dataDir,
    host,
    port,
    ...(storeOf(o.store) ? { store: storeOf(o.store)! } : {}),
    ...(o.storeSchema ? { storeSchema: o.storeSchema } : {}),
    ...(o.repos ? { reposBase: o.repos } : {}),
    ...(o.tlsCert && o.tlsKey ? { tls: { cert: o.tlsCert, key: o.tlsKey } } : {}),
    concurrency: Number(o.concurrency),
    ...(o.logLevel ? { logLevel: o.logLevel } : {}),
    worker: o.worker,
    ...(o.workerInProcess ? {} : { workerProcess: { cli: currentCli(), niceness } }),
    labels: [null, ...(o.label ?? [])],
    ...(consoleDir ? { consoleDir } : {}),
    ...(process.env.COFFER_ADMIN_PASSWORD
      ? { adminPassword: process.env.COFFER_ADMIN_PASSWORD }
      : {}),
    ...(process.env.COFFER_MASTER_KEY ? { masterKey: process.env.COFFER_MASTER_KEY } : {}),
    ...runtimeKnobs(process.env),
  })
  err(`Coffer is listening on ${coffer.url}`)
  await stopOnSignal(signal, (graceMs) => coffer.stop(graceMs))
}
