#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1048576:${GLIBC_TUNABLES} node
// Started as bin/coffer starts the server that runs these steps (its first line).
/* global process, performance, AbortController */
// Plain JavaScript over the built code (npm run build first), like the other benches' runs of
// the built CLI: run through tsx, the step's process carried about 140 MB of the loader's
// (624 against 486 MB peak for a consistent snapshot of the scale-1 environment).
import { execFileSync } from 'node:child_process'
import { LocalBackend, Repository, TreeCache, UserKeyCache } from '../../dist/repo/index.js'
import { createEnvironmentSnapshot, restoreEnvironment } from '../../dist/snapshots/index.js'
import { silentLogger } from '../../dist/lib/index.js'

/**
 * One step of `npm run bench -- env`, in its own process so that its peak RSS is measured
 * alone: `node bench/lib/env-step.mjs <init|snapshot|restore|restore-warm> <json>`. Prints
 * one JSON line: the step's own duration (without Node's start-up) and what it reported.
 *
 * `restore-warm` restores as the server does, in a process that has run a restore before
 * (modules compiled, the key derived): it runs `args.change` (a command that changes the
 * environment), restores, runs it again and restores again; the second restore is the one
 * reported, with the repository opened again for it as the server opens it per activity.
 */
const [op, json] = process.argv.slice(2)
/**
 * @type {{ repo: string, password: string, env: object, live?: boolean, snapshot?: string,
 *   change?: string[], changeArgs?: object, rounds?: [number, number] }}
 */
const args = JSON.parse(json ?? '{}')
const ctx = {
  signal: new AbortController().signal,
  log: silentLogger,
  now: () => new Date(),
  progress: () => {},
  logLine: () => {},
}
const userKeys = new UserKeyCache()
// As the server keeps them (src/control/repositories.ts).
const trees = new TreeCache()
const openRepo = async () =>
  Repository.open({
    backend: await LocalBackend.open(args.repo),
    password: args.password,
    userKeys,
    trees,
  })
/** @param {{ switchMs: number, tablesReloaded: number, tablesKept: number, filesWritten: number, filesKept: number }} r */
const restoreReport = (r) => ({
  switchMs: r.switchMs,
  tablesReloaded: r.tablesReloaded,
  tablesKept: r.tablesKept,
  filesWritten: r.filesWritten,
  filesKept: r.filesKept,
})
/** @param {() => Promise<Record<string, unknown>>} fn */
const timed = async (fn) => {
  const started = performance.now()
  const out = await fn()
  return { seconds: (performance.now() - started) / 1000, ...out }
}
/** @type {Record<string, unknown>} */
let result
if (op === 'init') {
  result = await timed(async () => {
    const backend = await LocalBackend.open(args.repo)
    await (await Repository.init({ backend, password: args.password })).close()
    return {}
  })
} else if (op === 'snapshot' || op === 'restore') {
  result = await timed(async () => {
    const repo = await openRepo()
    try {
      if (op === 'snapshot') {
        const info = await createEnvironmentSnapshot(
          repo,
          args.env,
          { live: args.live ?? false, automated: false },
          ctx,
        )
        return { id: info.id, pauseMs: info.pauseMs }
      }
      return restoreReport(await restoreEnvironment(repo, args.snapshot, args.env, [], ctx))
    } finally {
      await repo.close()
    }
  })
} else if (op === 'restore-warm') {
  const [cmd, ...cmdArgs] = args.change ?? []
  if (!cmd) throw new Error('restore-warm needs a change command')
  /** @param {number} round */
  const restoreOnce = async (round) => {
    execFileSync(cmd, [...cmdArgs, JSON.stringify({ ...args.changeArgs, round })])
    return timed(async () => {
      const repo = await openRepo()
      try {
        return restoreReport(await restoreEnvironment(repo, args.snapshot, args.env, [], ctx))
      } finally {
        await repo.close()
      }
    })
  }
  const [a, b] = args.rounds ?? [2, 3]
  const first = await restoreOnce(a)
  result = { ...(await restoreOnce(b)), firstSeconds: first.seconds }
} else throw new Error(`unknown step ${op}`)
process.stdout.write(JSON.stringify(result) + '\n')
