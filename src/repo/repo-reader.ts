import { IntegrityError, InvalidInputError, NotFoundError } from '../errors.js'
import { BlobLoader } from './blob-loader.js'
import {
  readContentsByPack,
  type ContentByPackOptions,
  type ContentJob,
  type ContentSink,
} from './content-by-pack.js'
import type { BlobId, SnapshotId } from './id.js'
import type { MasterIndex } from './index/index.js'
import type { Repository } from './repository.js'
import type { StoredSnapshot } from './snapshot.js'
import type { TreePath } from './tree-builder.js'
import { decodeTree, type Node, type TreeId } from './tree/index.js'

/** Trees kept decoded; a walk touches each directory once, lookups revisit the top levels. */
const TREE_CACHE_ENTRIES = 256
/**
 * Subtrees loaded ahead at most at once. Every walk (restore, plan, prune, a capture's parent)
 * visits a directory's subdirectories soon after the directory itself; loading them while the
 * walker works turns one round trip per directory into one per batch, which on an object
 * store (tens of milliseconds a request) decides how long a tree of many directories takes.
 */
const TREE_READ_AHEAD = 16

export interface SnapshotFilter {
  readonly hosts?: readonly string[]
  readonly tags?: readonly string[]
  readonly paths?: readonly string[]
}

/**
 * Read access to a repository's snapshots: find them, walk their trees, stream file contents.
 * Everything read is verified (MAC, SHA-256); damage surfaces as IntegrityError naming the
 * file, never as wrong bytes.
 */
export class RepoReader {
  readonly blobs: BlobLoader
  private readonly trees = new Map<TreeId, Node[]>()
  private readonly loading = new Map<TreeId, Promise<Node[]>>()
  private readingAhead = 0

  private constructor(
    readonly repo: Repository,
    readonly index: MasterIndex,
    private readonly treeReadAhead: boolean,
    treeSpanBytes: number | undefined,
  ) {
    this.blobs = new BlobLoader(repo, index, { treeSpanBytes })
  }

  /**
   * Opens a reader. Snapshots should be listed before the index is loaded (design.rst, "Read
   * and Write Ordering"), so `open` loads the index and callers list snapshots through it.
   * `treeReadAhead`: for readers that walk whole trees (restores, a capture's parent, prune),
   * each tree asked for starts loading its subtrees; readers that look up single paths leave
   * it off, since they would read subtrees they never visit. `treeSpanBytes`: how many bytes
   * of packs' tree spans are kept (see TreePackReads; 0 reads trees one by one).
   * `startWorkers`: for readers that go on to move content (restores, backups), the crypto
   * workers are started before the index loads: a worker takes 0.15-0.2 s to start (its
   * modules), which then overlaps loading the index and walking trees instead of following.
   */
  static async open(
    repo: Repository,
    signal?: AbortSignal,
    opts: {
      readonly treeReadAhead?: boolean
      readonly treeSpanBytes?: number
      readonly startWorkers?: boolean
    } = {},
  ): Promise<RepoReader> {
    if (opts.startWorkers) void repo.pool
    return new RepoReader(
      repo,
      await repo.index(signal),
      opts.treeReadAhead ?? false,
      opts.treeSpanBytes,
    )
  }

  /**
   * A tree's nodes, from the cache or the repository; loads of the same tree at once share
   * one read. With `treeReadAhead`, starts loading its subtrees ahead (see TREE_READ_AHEAD).
   */
  async loadTree(id: TreeId, signal?: AbortSignal): Promise<Node[]> {
    const nodes = await this.loadOne(id, signal)
    if (this.treeReadAhead) this.readAhead(nodes)
    return nodes
  }

  private loadOne(id: TreeId, signal?: AbortSignal): Promise<Node[]> {
    const cached = this.trees.get(id) ?? this.repo.sharedTrees?.get(this.repo.config.id, id)
    if (cached) return Promise.resolve(cached)
    let loading = this.loading.get(id)
    if (!loading) {
      loading = this.fetchTree(id, signal).finally(() => this.loading.delete(id))
      this.loading.set(id, loading)
    }
    return loading
  }

  private async fetchTree(id: TreeId, signal?: AbortSignal): Promise<Node[]> {
    const bytes = await this.blobs.load('tree', id, signal)
    let nodes: Node[]
    try {
      nodes = decodeTree(bytes)
    } catch (e) {
      const loc = this.index.lookup('tree', id)
      throw new IntegrityError(
        loc ? `data/${loc.packId.slice(0, 2)}/${loc.packId}` : `tree ${id.slice(0, 8)}`,
        `tree blob ${id.slice(0, 8)} does not parse: ${(e as Error).message}`,
        { cause: e },
      )
    }
    if (this.trees.size >= TREE_CACHE_ENTRIES) this.trees.delete(this.trees.keys().next().value!)
    this.trees.set(id, nodes)
    this.repo.sharedTrees?.set(this.repo.config.id, id, nodes)
    return nodes
  }

  /**
   * Starts loading the subtrees of `nodes` that are neither cached nor loading, while fewer
   * than TREE_READ_AHEAD such loads run. Their failures are dropped here: a walker that
   * needs the tree loads it again and gets the error itself.
   */
  private readAhead(nodes: readonly Node[]): void {
    for (const n of nodes) {
      if (this.readingAhead >= TREE_READ_AHEAD) return
      const sub = n.type === 'dir' ? n.subtree : undefined
      if (!sub || this.trees.has(sub) || this.loading.has(sub)) continue
      this.readingAhead++
      // One level only: a tree loaded ahead reads ahead when the walker asks for it.
      this.loadOne(sub)
        .catch(() => undefined)
        .finally(() => this.readingAhead--)
    }
  }

  /** The node at `path` below `root`, or undefined. An empty path has no node (the root). */
  async lookup(root: TreeId, path: TreePath, signal?: AbortSignal): Promise<Node | undefined> {
    let tree: TreeId | undefined = root
    let node: Node | undefined
    for (const name of path) {
      if (!tree) return undefined
      const nodes = await this.loadTree(tree, signal)
      node = nodes.find((n) => Buffer.compare(n.name, name) === 0)
      if (!node) return undefined
      tree = node.subtree
    }
    return node
  }

  /** The tree ID of directory `path` below `root` (the root itself for an empty path). */
  async subtreeAt(root: TreeId, path: TreePath, signal?: AbortSignal): Promise<TreeId | undefined> {
    if (path.length === 0) return root
    const node = await this.lookup(root, path, signal)
    return node?.type === 'dir' ? node.subtree : undefined
  }

  /**
   * Walks a tree depth-first in name order, yielding each node with its path (including
   * the node's own name). Directories come before their contents.
   */
  async *walk(
    root: TreeId,
    prefix: TreePath = [],
    signal?: AbortSignal,
  ): AsyncGenerator<{ path: TreePath; node: Node }> {
    const nodes = await this.loadTree(root, signal)
    for (const node of nodes) {
      const path = [...prefix, node.name]
      yield { path, node }
      if (node.type === 'dir' && node.subtree) yield* this.walk(node.subtree, path, signal)
    }
  }

  /**
   * Streams the bytes of a file's content in order, reading up to `concurrency` blobs ahead.
   * Memory: `concurrency` blobs (≤ 8 MiB each).
   */
  async *readContent(
    content: readonly BlobId[],
    opts: { readonly signal?: AbortSignal; readonly concurrency?: number } = {},
  ): AsyncGenerator<Buffer> {
    const ahead = opts.concurrency ?? 4
    const pending: Promise<Buffer>[] = []
    let next = 0
    const fill = (): void => {
      while (pending.length < ahead && next < content.length) {
        const p = this.blobs.load('data', content[next++]!, opts.signal)
        // Failures surface when awaited in order; avoid unhandled-rejection noise meanwhile.
        p.catch(() => undefined)
        pending.push(p)
      }
    }
    fill()
    while (pending.length > 0) {
      const buf = await pending.shift()!
      fill()
      yield buf
    }
  }

  /**
   * Reads the content of many files pack by pack, each pack once (see readContentsByPack):
   * for restores of many files, where reading file by file would read blob by blob.
   */
  readContents<J extends ContentJob>(
    jobs: readonly J[],
    sink: ContentSink<J>,
    opts?: ContentByPackOptions,
  ): Promise<void> {
    return readContentsByPack(this.blobs, jobs, sink, opts)
  }

  /**
   * Finds a snapshot by full ID, unique prefix (restic accepts any unique prefix; 8 hex
   * digits is the short form), or `latest` (newest matching the filter).
   */
  async findSnapshot(
    ref: string,
    filter: SnapshotFilter = {},
    signal?: AbortSignal,
  ): Promise<StoredSnapshot> {
    if (ref === 'latest') {
      const all = (await this.repo.listSnapshots(signal)).filter((s) => matches(s, filter))
      const last = all.at(-1)
      if (!last)
        throw new NotFoundError('No snapshot matches: the repository has no such snapshot.')
      return last
    }
    if (!/^[0-9a-f]{1,64}$/.test(ref)) {
      throw new InvalidInputError(
        'snapshot',
        `Invalid snapshot ID "${ref.slice(0, 80)}": expected hex digits or "latest".`,
      )
    }
    const found: SnapshotId[] = []
    for await (const f of this.repo.backend.list('snapshots', { signal })) {
      if (f.name.startsWith(ref)) found.push(f.name as SnapshotId)
    }
    if (found.length === 0) throw new NotFoundError(`No snapshot ${ref} in the repository.`)
    if (found.length > 1)
      throw new InvalidInputError(
        'snapshot',
        `The snapshot ID prefix ${ref} is ambiguous: ${found.length} snapshots start with it.`,
      )
    return this.repo.loadSnapshot(found[0]!, signal)
  }
}

export function matches(s: StoredSnapshot, f: SnapshotFilter): boolean {
  if (f.hosts?.length && !f.hosts.includes(s.hostname ?? '')) return false
  if (f.tags?.length) {
    // restic: each --tag value is a comma-separated set that must all be present; any value may match.
    const tags = new Set(s.tags ?? [])
    const ok = f.tags.some((group) => group.split(',').every((t) => t === '' || tags.has(t)))
    if (!ok) return false
  }
  if (f.paths?.length) {
    const paths = new Set(s.paths)
    if (!f.paths.every((p) => paths.has(p))) return false
  }
  return true
}
