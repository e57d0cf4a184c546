#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1048576:${GLIBC_TUNABLES} node
// Started as bin/coffer starts the server that runs these steps (its first line).
/* global process, performance, AbortController */
// Plain JavaScript over the built code (npm run build first), like the other benches' runs of
// the built CLI: run through tsx, the step's process carried about 140 MB of the loader's
// (624 against 486 MB peak for a consistent snapshot of the scale-1 environment).
import { LocalBackend, Repository } from '../../dist/repo/index.js'
import { createEnvironmentSnapshot, restoreEnvironment } from '../../dist/snapshots/index.js'
import { silentLogger } from '../../dist/lib/index.js'

/**
 * One step of `npm run bench -- env`, in its own process so that its peak RSS is measured
 * alone: `node bench/lib/env-step.mjs <init|snapshot|restore> <json>`. Prints one
 * JSON line: the step's own duration (without Node's start-up) and what it reported.
 */
const [op, json] = process.argv.slice(2)
/** @type {{ repo: string, password: string, env: object, live?: boolean, snapshot?: string }} */
const args = JSON.parse(json ?? '{}')
const ctx = {
  signal: new AbortController().signal,
  log: silentLogger,
  now: () => new Date(),
  progress: () => {},
  logLine: () => {},
}
const started = performance.now()
const backend = await LocalBackend.open(args.repo)
/** @type {Record<string, unknown>} */
let out = {}
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
      const r = await restoreEnvironment(repo, args.snapshot, args.env, [], ctx)
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
