import { NotFoundError } from '../../errors.js'
import { treePath, type RepoReader, type TreeId } from '../../repo/index.js'
import type { TreeEntry, TreeReader } from '../ports.js'

/**
 * The TreeReader port over one snapshot of a repository: `root` is the snapshot's tree.
 *
 * @example
 * const snap = await reader.findSnapshot('latest')
 * await restoreMysql(snapshotTreeReader(reader, snap.tree), target, ctx)
 */
export function snapshotTreeReader(reader: RepoReader, root: TreeId): TreeReader {
  const node = async (path: string, signal?: AbortSignal) => {
    const n = await reader.lookup(root, treePath(path), signal)
    if (!n) throw new NotFoundError(`The snapshot has no ${path}.`)
    return n
  }
  return {
    async list(dir, opts = {}): Promise<readonly TreeEntry[]> {
      const tree = await reader.subtreeAt(root, treePath(dir), opts.signal)
      if (!tree) throw new NotFoundError(`The snapshot has no directory ${dir}.`)
      return (await reader.loadTree(tree, opts.signal)).map((n) => ({
        name: Buffer.from(n.name).toString('utf8'),
        type: n.type === 'file' || n.type === 'dir' || n.type === 'symlink' ? n.type : 'other',
        size: Number(n.size ?? 0),
      }))
    },
    async fileNode(path, opts = {}) {
      const n = await node(path, opts.signal)
      if (n.type !== 'file') throw new NotFoundError(`${path} in the snapshot is not a file.`)
      return n
    },
    async *readFile(path, opts = {}) {
      const n = await node(path, opts.signal)
      if (n.type !== 'file') throw new NotFoundError(`${path} in the snapshot is not a file.`)
      yield* reader.readContent(n.content ?? [], {
        ...(opts.signal ? { signal: opts.signal } : {}),
      })
    },
  }
}
