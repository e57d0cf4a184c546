import { FileCapture } from '../capture/index.js'
import { treePath, type RepoReader, type SnapshotWriter, type TreeId } from '../repo/index.js'
import type { Mount } from './environment.js'
import type { MountPart } from './capture-part.js'
import type { OpContext } from './op-context.js'

/**
 * A mount as a capture part. The pre-copy runs before the hold, while the site runs:
 * incremental against the parent snapshot (unchanged files, by size, mtime, ctime and
 * inode, reuse their blobs unread). A consistent snapshot then runs the final pass inside
 * the hold, which re-reads only what changed since the pre-copy — that pass is the pause.
 * A live snapshot keeps the pre-copy as it is and lists the files that changed meanwhile.
 */
export function mountPart(
  mount: Mount,
  writer: SnapshotWriter,
  parent: { reader: RepoReader; tree: TreeId | undefined } | undefined,
  live: boolean,
  ctx: OpContext,
): MountPart {
  const capture = new FileCapture(
    writer,
    {
      path: mount.path,
      target: treePath(`mounts/${mount.name}`),
      ...(parent?.tree ? { parentTree: parent.tree } : {}),
    },
    {
      ...(parent ? { parent: parent.reader } : {}),
      special: 'skip',
      followRootLink: true,
      xattrs: true,
      excludeStaging: true,
      signal: ctx.signal,
      log: ctx.log,
    },
  )
  return {
    kind: 'mount',
    label: `mount ${mount.name}`,
    prepare: async () => {
      await capture.preCopy()
    },
    hold: async () => {},
    final: async () => {
      if (live) return
      const s = await capture.finalPass()
      ctx.log.info({ mount: mount.name, ...s }, 'final pass inside the hold')
    },
    release: async () => {},
    finish: async () => {
      await capture.writeTree()
      for (const p of capture.stats.skipped) ctx.logLine(`Skipped in ${mount.name}: ${p}`)
      for (const p of capture.stats.vanished)
        ctx.logLine(`Vanished during the copy: ${mount.name}/${p}`)
    },
    abort: async () => {},
    manifest: () => ({
      name: mount.name,
      files: capture.stats.totalFilesProcessed,
      bytes: capture.stats.totalBytesProcessed,
      changedDuringCopy: [...capture.stats.changedDuringRead],
    }),
  }
}
