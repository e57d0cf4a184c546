import { join } from 'node:path'
import {
  FileCapture,
  type FileCaptureOptions,
  type FileCaptureStats,
} from '../../src/capture/index.js'
import {
  LocalBackend,
  RepoReader,
  Repository,
  SnapshotWriter,
  TEST_KDF,
  treePath,
  type Node,
  type StoredSnapshot,
  type TreeId,
} from '../../src/repo/index.js'

export const MOUNT_PASSWORD = 'mount-tests'

/** A new local repository under `dir` (cheap KDF). */
export async function createRepo(dir: string): Promise<Repository> {
  return Repository.init({
    backend: await LocalBackend.open(join(dir, 'repo')),
    password: MOUNT_PASSWORD,
    kdf: TEST_KDF,
  })
}

/** Where a mount named `name` lives in the snapshot tree (DESIGN.md: `/mounts/<name>`). */
export const mountTarget = (name: string): Uint8Array[] => [...treePath(`mounts/${name}`)]

export interface MountSnapshot {
  readonly snap: StoredSnapshot
  readonly stats: FileCaptureStats
  /** The mount's tree in the snapshot. */
  readonly tree: TreeId
  /** The mount directory's own node. */
  readonly node: Node
}

/**
 * Snapshots `dir` as mount `name` the way the environment layer does: incremental against
 * `parent`, optionally with a step between the pre-copy and the final pass (`between`, e.g.
 * to change files as a running site would).
 */
export async function snapshotMount(
  repo: Repository,
  dir: string,
  opts: {
    name?: string
    parent?: StoredSnapshot
    between?: () => Promise<void>
    capture?: FileCaptureOptions
  } = {},
): Promise<MountSnapshot & { finalPass?: Awaited<ReturnType<FileCapture['finalPass']>> }> {
  const name = opts.name ?? 'media'
  const target = mountTarget(name)
  const reader = await RepoReader.open(repo)
  const parentTree = opts.parent ? await reader.subtreeAt(opts.parent.tree, target) : undefined
  const writer = await SnapshotWriter.start(repo)
  try {
    const capture = new FileCapture(
      writer,
      { path: dir, target, ...(parentTree ? { parentTree } : {}) },
      { parent: reader, special: 'skip', excludeStaging: true, ...opts.capture },
    )
    const stats = await capture.preCopy()
    let finalPass
    if (opts.between) {
      await opts.between()
      finalPass = await capture.finalPass()
    }
    await capture.writeTree()
    const snap = await writer.commit({
      paths: [`/mounts/${name}`],
      hostname: 'shop',
      ...(opts.parent ? { parent: opts.parent.id } : {}),
      counts: stats,
    })
    const after = await RepoReader.open(repo)
    const node = await after.lookup(snap.tree, target)
    if (!node?.subtree) throw new Error('the snapshot has no mount tree')
    return { snap, stats, tree: node.subtree, node, ...(finalPass ? { finalPass } : {}) }
  } catch (e) {
    await writer.abort()
    throw e
  }
}
