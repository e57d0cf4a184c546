/**
 * A restore run in its own process, for kill -9 tests: restores snapshot `argv[3]`'s mount
 * `media` from repository `argv[2]` into `argv[4]` with switch mode `argv[5]`, one entry at a
 * time. After each progress step it prints `<phase> <done>/<total>` and waits for one byte on
 * stdin before going on, so the parent can kill it at an exact step.
 */
import { readSync, writeSync } from 'node:fs'
import { restoreMount, SWITCH_MODES, type SwitchMode } from '../../../src/capture/index.js'
import { LocalBackend, RepoReader, Repository } from '../../../src/repo/index.js'
import { MOUNT_PASSWORD, mountTarget } from '../../helpers/mount-repo.js'

const [repoDir, snapId, target, mode] = process.argv.slice(2)
if (!repoDir || !snapId || !target || !(SWITCH_MODES as readonly string[]).includes(mode ?? ''))
  throw new Error('usage: restore-child REPO SNAPSHOT TARGET SWITCH-MODE')

/** Blocks the whole process until the parent answers (stdin stays a blocking pipe). */
function waitForParent(): void {
  const b = Buffer.alloc(1)
  for (;;) {
    try {
      if (readSync(0, b, 0, 1, null) === 0) process.exit(3)
      return
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e
    }
  }
}

const repo = await Repository.open({
  backend: await LocalBackend.open(repoDir),
  password: MOUNT_PASSWORD,
})
const reader = await RepoReader.open(repo)
const snap = await reader.findSnapshot(snapId)
const node = await reader.lookup(snap.tree, mountTarget('media'))
if (!node?.subtree) throw new Error('no mount in the snapshot')
await restoreMount(reader, node.subtree, target, {
  rootNode: node,
  switchMode: mode as SwitchMode,
  concurrency: 1,
  onProgress: (p) => {
    writeSync(1, `${p.phase} ${p.done}/${p.total}\n`)
    waitForParent()
  },
})
writeSync(1, 'done\n')
