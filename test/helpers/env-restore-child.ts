// Runs one environment restore in a process of its own and kills that process (SIGKILL) at
// a chosen point, for tests of what a restart finds: `COFFER_TEST_RESTORE` holds the JSON
// of `EnvRestoreJob`. The restore's commit point keeps its record in a file, as the control
// plane keeps it in the environment's row.
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs'
import type { Logger } from '../../src/lib/index.js'
import { LocalBackend, Repository } from '../../src/repo/index.js'
import { restoreEnvironment, type EnvironmentSpec } from '../../src/snapshots/index.js'

export interface EnvRestoreJob {
  readonly repo: string
  readonly password: string
  readonly snapshot: string
  readonly env: EnvironmentSpec
  /** Where the commit point writes the record (JSON). */
  readonly recordFile: string
  /**
   * `before-record`: everything staged, the record not yet written; `record`: right after it
   * is written; otherwise a log message to die on.
   */
  readonly killAt: 'before-record' | 'record' | 'database switched in' | 'mount switched'
}

const job = JSON.parse(process.env.COFFER_TEST_RESTORE ?? '{}') as EnvRestoreJob
const die = (): never => {
  process.kill(process.pid, 'SIGKILL')
  throw new Error('unreachable')
}
const logger: Logger = {
  debug: () => {},
  info: (_, msg) => {
    if (msg === job.killAt) die()
  },
  warn: () => {},
  error: () => {},
  child: () => logger,
}

const repo = await Repository.open({
  backend: await LocalBackend.open(job.repo),
  password: job.password,
})
await restoreEnvironment(
  repo,
  job.snapshot,
  job.env,
  [],
  {
    signal: new AbortController().signal,
    log: logger,
    now: () => new Date(),
    progress: () => {},
    logLine: () => {},
  },
  {
    commitPoint: {
      record: async (r) => {
        if (job.killAt === 'before-record') die()
        const fd = openSync(job.recordFile, 'w')
        writeSync(fd, JSON.stringify(r))
        fsyncSync(fd)
        closeSync(fd)
        if (job.killAt === 'record') die()
      },
      clear: async () => {
        rmSync(job.recordFile, { force: true })
      },
    },
  },
)
// Not killed: the point was never reached.
process.exit(3)
