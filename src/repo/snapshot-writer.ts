import { hostname as osHostname, userInfo } from 'node:os'
import { silentLogger, type Logger } from '../lib/index.js'
import { BlobSaver } from './blob-saver.js'
import { parsePolynomial, type Polynomial } from './chunker/index.js'
import { saveChunks, saveContent, type SavedContent } from './content-saver.js'
import { goTimeFromNs, type GoTime } from './go/index.js'
import type { SnapshotId } from './id.js'
import type { RepoLock } from './lock.js'
import type { Repository } from './repository.js'
import { encodeSnapshot, type Snapshot, type StoredSnapshot } from './snapshot.js'
import { treePath, TreeBuilder, type TreePath } from './tree-builder.js'
import { GO_MODE, type Node, type TreeId } from './tree/index.js'
import type { HashedChunk } from './workers/worker-chunking.js'

/** How a file written into the snapshot's tree is stored. */
interface FileOptions {
  readonly mode?: number
  readonly mtime?: Date
  readonly signal?: AbortSignal
}

export interface SnapshotWriterOptions {
  readonly signal?: AbortSignal
  readonly log?: Logger
  readonly now?: () => Date
  readonly packSize?: number
}

/** What the caller knows about the backup for restic's snapshot summary. */
export interface BackupCounts {
  filesNew: number
  filesChanged: number
  filesUnmodified: number
  dirsNew: number
  dirsChanged: number
  dirsUnmodified: number
  totalFilesProcessed: number
  totalBytesProcessed: number
}

export interface CommitOptions {
  readonly paths: readonly string[]
  readonly hostname?: string
  readonly username?: string
  readonly tags?: readonly string[]
  readonly parent?: SnapshotId
  readonly excludes?: readonly string[]
  readonly programVersion?: string
  /** The snapshot's time; defaults to when the writer started (restic uses the start too). */
  readonly time?: GoTime
  readonly counts?: Partial<BackupCounts>
}

export const emptyCounts = (): BackupCounts => ({
  filesNew: 0,
  filesChanged: 0,
  filesUnmodified: 0,
  dirsNew: 0,
  dirsChanged: 0,
  dirsUnmodified: 0,
  totalFilesProcessed: 0,
  totalBytesProcessed: 0,
})

const nowNs = (now: () => Date): GoTime => goTimeFromNs(BigInt(now().getTime()) * 1_000_000n)

/**
 * Writes one new snapshot: holds a non-exclusive lock for its whole life, streams contents
 * into packs, builds the trees, and on `commit` flushes packs and index, saves the root tree
 * and finally the snapshot file (design.rst, "Read and Write Ordering"). Nothing is visible
 * to readers before commit; `abort` (or a crash) leaves only unreferenced packs for prune.
 *
 * Concurrency: `saveContent`/`writeFile` may run concurrently; `commit` runs after them.
 */
export class SnapshotWriter {
  readonly saver: BlobSaver
  readonly tree: TreeBuilder
  readonly pol: Polynomial
  readonly started: GoTime
  readonly signal: AbortSignal
  private readonly now: () => Date
  private done = false

  private constructor(
    readonly repo: Repository,
    private readonly lock: RepoLock,
    index: Awaited<ReturnType<Repository['index']>>,
    opts: SnapshotWriterOptions,
  ) {
    const log = opts.log ?? silentLogger
    this.now = opts.now ?? (() => new Date())
    this.started = nowNs(this.now)
    this.signal = opts.signal ? AbortSignal.any([opts.signal, lock.signal]) : lock.signal
    this.saver = new BlobSaver(repo, index, {
      log,
      writable: lock.confirmed,
      ...(opts.packSize ? { packSize: opts.packSize } : {}),
    })
    this.tree = new TreeBuilder(this.saver, (name) => this.dirNode(name))
    this.pol = parsePolynomial(repo.config.chunkerPolynomial)
  }

  static async start(repo: Repository, opts: SnapshotWriterOptions = {}): Promise<SnapshotWriter> {
    // The index loads and the capture reads while the lock is confirmed; the saver writes
    // nothing before (a writer refused by the second look leaves nothing behind).
    const lock = await repo.startLock(false, {
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    })
    try {
      const index = await repo.index(opts.signal)
      return new SnapshotWriter(repo, lock, index, opts)
    } catch (e) {
      await lock.release()
      throw e
    }
  }

  /** Chunks, deduplicates and stores a byte stream; returns its blob list. */
  saveContent(
    source: AsyncIterable<Uint8Array>,
    opts: { onBytes?: (n: number) => void } = {},
  ): Promise<SavedContent> {
    return saveContent(source, this.saver, this.pol, { signal: this.signal, ...opts })
  }

  /**
   * Stores a small file's content, read on a worker thread (see `BlobSaver.saveSmallFile`):
   * undefined when it is not small or held more than `size` bytes (stream it instead).
   */
  async saveSmallFile(path: Buffer, size: number): Promise<SavedContent | undefined> {
    const r = await this.saver.saveSmallFile(path, size, this.signal)
    if (!r) return undefined
    return { content: r.id ? [r.id] : [], size: r.length, newBytes: r.added ? r.length : 0 }
  }

  /**
   * Stores a stream as a regular file at `path` (POSIX, relative to the snapshot root);
   * parents are created as needed. The capture drivers' TreeWriter port.
   */
  async writeFile(
    path: string,
    data: AsyncIterable<Uint8Array>,
    opts: FileOptions = {},
  ): Promise<{ readonly size: number }> {
    return this.addSaved(path, () => this.saveContent(data), opts)
  }

  /**
   * `writeFile` for content already cut into chunks with `pol` and hashed, in
   * order (see `saveChunks`): the same file as `writeFile` of the chunks' bytes would store.
   */
  async writeChunkedFile(
    path: string,
    chunks: AsyncIterable<HashedChunk>,
    opts: FileOptions = {},
  ): Promise<{ readonly size: number }> {
    return this.addSaved(path, () => saveChunks(chunks, this.saver, { signal: this.signal }), opts)
  }

  /** Saves a file's content with `save`, then adds its node at `path`. */
  private async addSaved(
    path: string,
    save: () => Promise<SavedContent>,
    opts: FileOptions,
  ): Promise<{ readonly size: number }> {
    const parts = [...treePath(path)]
    const name = parts.pop()
    if (!name) throw new Error(`not a file path: ${path}`)
    const saved = await save()
    const t = opts.mtime ? goTimeFromNs(BigInt(opts.mtime.getTime()) * 1_000_000n) : nowNs(this.now)
    this.tree.addNode(parts, {
      name,
      type: 'file',
      mode: opts.mode ?? 0o644,
      mtime: t,
      atime: t,
      ctime: t,
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
      size: saved.size,
      links: 1,
      content: saved.content,
    })
    return { size: saved.size }
  }

  /**
   * Stores at `path` (as for writeFile) a file node of an earlier snapshot of this
   * repository, unread: its blobs are in the repository already. The capture drivers'
   * TreeWriter port.
   */
  addFile(path: string, node: Node): void {
    const parts = [...treePath(path)]
    const name = parts.pop()
    if (!name || node.type !== 'file') throw new Error(`not a file path: ${path}`)
    this.tree.addNode(parts, { ...node, name })
  }

  addNode(dir: TreePath, node: Node): void {
    this.tree.addNode(dir, node)
  }

  addDir(path: TreePath, meta?: Node): void {
    this.tree.addDir(path, meta)
  }

  /** Seals a finished directory (and all below it), releasing its nodes from memory. */
  finishDir(path: TreePath): Promise<TreeId> {
    return this.tree.finishDir(path, this.signal)
  }

  private dirNode(name: Uint8Array): Node {
    const t = this.started
    return {
      name,
      type: 'dir',
      mode: GO_MODE.dir + 0o755,
      mtime: t,
      atime: t,
      ctime: t,
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
      content: null,
    }
  }

  /** Seals the trees, flushes packs and index, writes the snapshot, releases the lock. */
  async commit(opts: CommitOptions): Promise<StoredSnapshot> {
    try {
      const tree = await this.tree.finishRoot(this.signal)
      await this.saver.flush(this.signal)
      const user = safeUser()
      const counts = { ...emptyCounts(), ...opts.counts }
      const stats = this.saver.stats
      const snapshot: Snapshot = {
        time: opts.time ?? this.started,
        ...(opts.parent ? { parent: opts.parent } : {}),
        tree,
        paths: opts.paths,
        hostname: opts.hostname ?? osHostname(),
        username: opts.username ?? user.username,
        ...(user.uid > 0 ? { uid: user.uid, gid: user.gid } : {}),
        ...(opts.excludes?.length ? { excludes: opts.excludes } : {}),
        ...(opts.tags?.length ? { tags: opts.tags } : {}),
        ...(opts.programVersion ? { programVersion: opts.programVersion } : {}),
        summary: {
          backupStart: this.started,
          backupEnd: nowNs(this.now),
          ...counts,
          dataBlobs: stats.dataBlobs,
          treeBlobs: stats.treeBlobs,
          dataAdded: stats.dataAdded,
          dataAddedPacked: stats.dataAddedPacked,
        },
      }
      await this.lock.confirmed
      this.signal.throwIfAborted()
      const id = await this.repo.store.saveUnpacked<SnapshotId>(
        'snapshots',
        encodeSnapshot(snapshot),
        this.signal,
      )
      this.done = true
      return { ...snapshot, id }
    } finally {
      if (!this.done) await this.saver.abort()
      this.done = true
      await this.lock.release()
    }
  }

  /** Gives up: nothing is referenced, the lock is released. */
  async abort(): Promise<void> {
    if (this.done) return
    this.done = true
    await this.saver.abort()
    await this.lock.release()
  }
}

function safeUser(): { username: string; uid: number; gid: number } {
  try {
    const u = userInfo()
    return { username: u.username, uid: u.uid, gid: u.gid }
  } catch {
    return { username: '', uid: 0, gid: 0 }
  }
}
