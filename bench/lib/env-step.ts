import { LocalBackend, Repository } from '../../src/repo/index.js'
import {
  createEnvironmentSnapshot,
  restoreEnvironment,
  type EnvironmentSpec,
} from '../../src/snapshots/index.js'
import { silentLogger } from '../../src/lib/index.js'

/**
 * One step of `npm run bench -- env`, in its own process so that its peak RSS is measured
 * alone: `node --import tsx bench/lib/env-step.ts <init|snapshot|restore> <json>`. Prints one
 * JSON line: the step's own duration (without Node's start-up) and what it reported.
 */
const [op, json] = process.argv.slice(2)
const args = JSON.parse(json ?? '{}') as {
  repo: string
  password: string
  env: EnvironmentSpec
  live?: boolean
  snapshot?: string
}
const ctx = {
  signal: new AbortController().signal,
  log: silentLogger,
  now: () => new Date(),
  progress: () => {},
  logLine: () => {},
}
const started = performance.now()
const backend = await LocalBackend.open(args.repo)
let out: Record<string, unknown> = {}
if (op === 'init') {
  await (await Repository.init({ backend, password: args.password })).close()
} else {
  const repo = await Repository.open({ backend, password: args.password })
  try {
    if (op === 'snapshot') {
      const info = await createEnvironmentSnapshot(
        repo,
        args.env,
        { live: args.live ?? false, automated: false },
        ctx,
      )
      out = { id: info.id, pauseMs: info.pauseMs }
    } else if (op === 'restore') {
      const r = await restoreEnvironment(repo, args.snapshot!, args.env, [], ctx)
      out = {
        switchMs: r.switchMs,
        tablesReloaded: r.tablesReloaded,
        tablesKept: r.tablesKept,
        filesWritten: r.filesWritten,
        filesKept: r.filesKept,
      }
    } else throw new Error(`unknown step ${op}`)
  } finally {
    await repo.close()
  }
}
process.stdout.write(
  JSON.stringify({ seconds: (performance.now() - started) / 1000, ...out }) + '\n',
)
