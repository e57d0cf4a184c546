import { captureFiles, type FileCaptureStats } from '../capture/index.js'
import { treePath, type RepoReader, type SnapshotWriter, type TreeId } from '../repo/index.js'
import type { Mount } from './environment.js'
import type { MountPart } from './capture-part.js'
import type { OpContext } from './op-context.js'

/**
 * A mount as a capture part. With a parent snapshot, capture is incremental: unchanged files
 * (size, mtime, ctime, inode) reuse their blobs without being read. A live snapshot captures
 * the mount once, as it is (files changing meanwhile are listed); a consistent one captures
 * it inside the hold, where only what changed since the parent snapshot is read.
 */
export function mountPart(
  mount: Mount,
  writer: SnapshotWriter,
  parent: { reader: RepoReader; tree: TreeId | undefined } | undefined,
  live: boolean,
  ctx: OpContext,
): MountPart {
  const target = treePath(`mounts/${mount.name}`)
  let stats: FileCaptureStats | undefined
  const capture = async (): Promise<FileCaptureStats> =>
    captureFiles(
      writer,
      [{ path: mount.path, target, ...(parent?.tree ? { parentTree: parent.tree } : {}) }],
      {
        ...(parent ? { parent: parent.reader } : {}),
        special: 'skip',
        signal: ctx.signal,
        log: ctx.log,
      },
    )
  return {
    kind: 'mount',
    label: `mount ${mount.name}`,
    // A live snapshot captures once, as the files are; a consistent one inside the hold.
    prepare: async () => {
      if (live) stats = await capture()
    },
    hold: async () => {},
    final: async () => {
      if (!live) stats = await capture()
    },
    release: async () => {},
    finish: async () => {},
    abort: async () => {},
    manifest: () => ({
      name: mount.name,
      files: stats?.totalFilesProcessed ?? 0,
      bytes: stats?.totalBytesProcessed ?? 0,
      changedDuringCopy: live ? [...(stats?.changedDuringRead ?? [])] : [],
    }),
  }
}
