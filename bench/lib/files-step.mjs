#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1048576:${GLIBC_TUNABLES} node
// Started as bin/coffer starts the server that runs environment restores (its first line).
/* global process, performance */
// Plain JavaScript over the built code (npm run build first), as bench/lib/env-step.mjs.
import { execFileSync } from 'node:child_process'
import {
  LocalBackend,
  RepoReader,
  Repository,
  TreeCache,
  UserKeyCache,
  treePath,
} from '../../dist/repo/index.js'
import { restoreMount } from '../../dist/capture/index.js'

/**
 * The files bench's restores in one long-lived process, as the server runs an environment's
 * mount restores (`coffer serve`: modules compiled, the key derived, the repository opened
 * again for each activity): `node bench/lib/files-step.mjs '<json>'`.
 *
 * A full restore of `sub` of `snapshot` into the empty directory `target`, then, for each
 * switch, `rounds` times: `change` run with a new seed (1 % of the images rewritten), and a
 * delta restore of the same. Prints one JSON line: the full restore's seconds and each
 * delta's, without Node's start-up (the process has not restored before the full one).
 */
const args = JSON.parse(process.argv[2] ?? '{}')
const userKeys = new UserKeyCache()
// As the server keeps them (src/control/repositories.ts).
const trees = new TreeCache()

/** @param {string} mode */
const restore = async (mode) => {
  const started = performance.now()
  const repo = await Repository.open({
    backend: await LocalBackend.open(args.repo),
    password: args.password,
    userKeys,
    trees,
  })
  try {
    // As `repo:restore` does: the lock is confirmed while the restore stages.
    const locking = repo.lock(false, {})
    locking.catch(() => undefined)
    const reader = await RepoReader.open(repo, undefined, {
      treeReadAhead: true,
      startWorkers: true,
    })
    const snap = await reader.findSnapshot(args.snapshot, {})
    const path = treePath(args.sub)
    const tree = await reader.subtreeAt(snap.tree, path)
    if (!tree) throw new Error(`no ${args.sub} in ${args.snapshot}`)
    const stats = await restoreMount(reader, tree, args.target, {
      switchMode: mode,
      rootNode: await reader.lookup(snap.tree, path),
      beforeSwitch: async () => {
        await locking
      },
    })
    await (await locking).release()
    return { seconds: (performance.now() - started) / 1000, filesWritten: stats.filesWritten }
  } finally {
    await repo.close()
  }
}

const full = await restore('whole')
/** @type {Record<string, { seconds: number, filesWritten: number }[]>} */
const deltas = { 'per-file': [], whole: [] }
let round = 0
for (const mode of /** @type {const} */ (['per-file', 'whole'])) {
  for (let i = 0; i < (args.rounds ?? 3); i++) {
    const [cmd, ...cmdArgs] = args.change
    execFileSync(cmd, [...cmdArgs, args.target, String(args.scale ?? 1), `warm ${++round}`])
    execFileSync('sync')
    deltas[mode].push(await restore(mode))
  }
}
process.stdout.write(JSON.stringify({ full, deltas }) + '\n')
