import { InternalError } from '../errors.js'
import type { BlobSaver } from './blob-saver.js'
import { goTimeFromNs, type GoTime } from './go/index.js'
import { hashId } from './id.js'
import { encodeTree, GO_MODE, type Node, type TreeId } from './tree/index.js'

/** A path inside a snapshot as raw name bytes, root first (`[]` is the root). */
export type TreePath = readonly Uint8Array[]

/** Splits a POSIX path (`/services/mysql`, `mounts/var`) into UTF-8 name components. */
export function treePath(path: string): TreePath {
  return path
    .split('/')
    .filter((c) => c !== '' && c !== '.')
    .map((c) => Buffer.from(c, 'utf8'))
}

interface DirEntry {
  readonly kind: 'dir'
  /** The directory's own node (metadata), without subtree; defaulted when never given. */
  meta: Node | undefined
  readonly children: Map<string, DirEntry | Node>
  sealed: TreeId | undefined
}

const key = (name: Uint8Array): string =>
  Buffer.from(name.buffer, name.byteOffset, name.length).toString('latin1')

/**
 * Assembles a snapshot's trees from nodes added in any order, by path. Directories stay in
 * memory until sealed: `finishDir` saves a finished directory's tree blobs and releases its
 * nodes, so a walker that finishes each directory after its last entry keeps memory to the
 * depth of the walk, not the size of the snapshot. Directories that are only implied by a
 * path get `defaultDirMeta`.
 */
export class TreeBuilder {
  private readonly root: DirEntry = {
    kind: 'dir',
    meta: undefined,
    children: new Map(),
    sealed: undefined,
  }
  treesSaved = 0

  constructor(
    private readonly saver: BlobSaver,
    private readonly defaultDirMeta: (name: Uint8Array) => Node = defaultDirNode,
  ) {}

  /** Adds a non-directory node (file, symlink, …) to directory `dir`. */
  addNode(dir: TreePath, node: Node): void {
    if (node.type === 'dir') throw new InternalError('directories are added with addDir')
    const parent = this.dir(dir, true)
    const k = key(node.name)
    if (parent.children.has(k))
      throw new InternalError(
        `duplicate entry in snapshot tree: ${Buffer.from(node.name).toString()}`,
      )
    parent.children.set(k, node)
  }

  /** Declares directory `path` with its metadata (its `subtree` is filled when sealed). */
  addDir(path: TreePath, meta?: Node): void {
    const d = this.dir(path, true)
    if (meta) d.meta = meta
  }

  /** Seals `path` and everything below it; returns its tree ID. */
  async finishDir(path: TreePath, signal?: AbortSignal): Promise<TreeId> {
    return this.seal(this.dir(path, false), signal)
  }

  /** Seals the whole tree; returns the root tree's ID. */
  async finishRoot(signal?: AbortSignal): Promise<TreeId> {
    return this.seal(this.root, signal)
  }

  private dir(path: TreePath, create: boolean): DirEntry {
    let d = this.root
    for (const name of path) {
      const k = key(name)
      let next = d.children.get(k)
      if (!next) {
        if (!create)
          throw new InternalError(
            `no such directory in snapshot tree: ${Buffer.from(name).toString()}`,
          )
        if (d.sealed) throw new InternalError('adding to a directory that is already sealed')
        next = { kind: 'dir', meta: undefined, children: new Map(), sealed: undefined }
        d.children.set(k, next)
      }
      if (!('kind' in next))
        throw new InternalError(`not a directory in snapshot tree: ${Buffer.from(name).toString()}`)
      d = next
    }
    if (create && d.sealed) throw new InternalError('adding to a directory that is already sealed')
    return d
  }

  private async seal(d: DirEntry, signal?: AbortSignal): Promise<TreeId> {
    if (d.sealed) return d.sealed
    const nodes: Node[] = []
    for (const [k, child] of d.children) {
      if ('kind' in child) {
        const subtree = await this.seal(child, signal)
        const name = Buffer.from(k, 'latin1')
        const meta = child.meta ?? this.defaultDirMeta(name)
        nodes.push({ ...meta, name, type: 'dir', content: null, subtree })
      } else {
        nodes.push(child)
      }
    }
    nodes.sort((a, b) => Buffer.compare(a.name, b.name))
    const bytes = encodeTree(nodes)
    const id = hashId<TreeId>(bytes)
    if (await this.saver.save('tree', id, bytes, signal)) this.treesSaved++
    d.sealed = id
    d.children.clear()
    return id
  }
}

/** Metadata for a directory that exists only in the snapshot (`services`, `mounts`). */
export function defaultDirNode(
  name: Uint8Array,
  now: GoTime = goTimeFromNs(BigInt(Date.now()) * 1_000_000n),
): Node {
  return {
    name,
    type: 'dir',
    mode: GO_MODE.dir + 0o755,
    mtime: now,
    atime: now,
    ctime: now,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    content: null,
  }
}
