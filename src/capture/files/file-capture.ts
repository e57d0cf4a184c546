import type { BigIntStats } from 'node:fs'
import { lstatSync } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import { CofferError } from '../../errors.js'
import { Limiter, observed, settleAll, silentLogger, type Logger } from '../../lib/index.js'
import type { BlobId, ExtendedAttribute, Node, TreeId, TreePath } from '../../repo/index.js'
import { readFileChunks } from './file-read.js'
import { nodeFromStat, nodeType } from './node-from-stat.js'
import { STAGE_PREFIX } from './stage-names.js'
import { mountDirectory } from './mount-directory.js'
import { readXattrsOf, readXattrTree } from './xattr-tool.js'
import type { XattrMap } from './xattr-dump.js'

/** What file capture needs from a snapshot being written (SnapshotWriter provides it). */
export interface FilesWriter {
  saveContent(
    source: AsyncIterable<Uint8Array>,
    opts?: { onBytes?: (n: number) => void },
  ): Promise<{ readonly content: BlobId[]; readonly size: number }>
  /**
   * A small file's content, read elsewhere (a worker thread) by its name: undefined when the
   * file is not small or held more than `size` bytes (then it is streamed to `saveContent`).
   */
  saveSmallFile(
    path: Buffer,
    size: number,
  ): Promise<{ readonly content: BlobId[]; readonly size: number } | undefined>
  addNode(dir: TreePath, node: Node): void
  addDir(path: TreePath, meta?: Node): void
  finishDir(path: TreePath): Promise<TreeId>
}

/** What incremental capture needs from the parent snapshot: its trees (RepoReader has it). */
export interface ParentTrees {
  loadTree(id: TreeId, signal?: AbortSignal): Promise<Node[]>
}

/** One directory (or file) to capture, and where it goes in the snapshot tree. */
export interface FileSource {
  /** Path on this machine. */
  readonly path: string
  /** Path inside the snapshot; the last component names the captured directory or file. */
  readonly target: TreePath
  /** The same path's tree in the parent snapshot, for incremental capture. */
  readonly parentTree?: TreeId
  /** The same path's node in the parent snapshot (a file source's previous node). */
  readonly parentNode?: Node
}

export interface FileCaptureOptions {
  /** Reads trees of the parent snapshot (for unchanged files, reuse their blobs unread). */
  readonly parent?: ParentTrees
  /**
   * FIFOs and devices: store them as nodes (restic's way, the default) or skip and log them
   * (mounts: an application's FIFO or device node is not data). Sockets are always skipped,
   * as restic does.
   */
  readonly special?: 'store' | 'skip'
  /** Skip (and log) files and directories that cannot be read instead of failing. */
  readonly skipUnreadable?: boolean
  /** Capture extended attributes (needs getfattr; without it a warning is logged once). */
  readonly xattrs?: boolean
  /** Leave out `.coffer-stage-*` at the source's top: a staged restore's work area. */
  readonly excludeStaging?: boolean
  /**
   * A mount: a symbolic link at the source's path is followed to the directory it leads to
   * (mountDirectory), which is captured. Without it a link there is stored as a link, as
   * `restic backup` stores one.
   */
  readonly followRootLink?: boolean
  /** Files read at once. */
  readonly concurrency?: number
  readonly signal?: AbortSignal
  readonly log?: Logger
  readonly onProgress?: (p: FileCaptureStats) => void
}

export interface FileCaptureStats {
  filesNew: number
  filesChanged: number
  filesUnmodified: number
  dirsNew: number
  dirsChanged: number
  dirsUnmodified: number
  totalFilesProcessed: number
  totalBytesProcessed: number
  /** Bytes actually read from files (unmodified files are not read). */
  bytesRead: number
  /** Files read (first read or re-read). */
  filesRead: number
  /** Paths that changed while being read (stored as read). */
  readonly changedDuringRead: string[]
  /** Paths that vanished during the walk. */
  readonly vanished: string[]
  /** Special files and unreadable files that were skipped. */
  readonly skipped: string[]
}

/** What the final pass did (it runs inside the environment's hold: it must be short). */
export interface FinalPassStats {
  readonly entries: number
  readonly filesReread: number
  readonly bytesRead: number
  /** Files that changed while re-read in the final pass (the hold did not stop their writer). */
  readonly changedDuringRead: readonly string[]
  readonly vanished: readonly string[]
  readonly ms: number
}

/**
 * A file whose ctime is this close to the moment it was stat'ed may change again within the
 * same timestamp tick (Linux stamps with a coarse clock): its stat cannot prove it unchanged
 * later, so the final pass re-reads it (git's "racily clean" entries).
 */
const RACY_NS = 100_000_000n

/**
 * Reads the walk may queue ahead of the readers. Unbounded, the walk of a 15,000-file mount
 * outran them by thousands of files, each queued read holding its stat (bigints and Dates),
 * path and closures: the main thread's heap grew to 95 MB beside a database capture.
 */
const READS_AHEAD = 256

const slash = Buffer.from('/')
const join = (dir: Buffer, name: Uint8Array): Buffer => Buffer.concat([dir, slash, name])
const show = (p: Buffer): string => p.toString('utf8')
const latin1 = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1')
const wallNs = (): bigint => BigInt(Date.now()) * 1_000_000n

/** One captured entry, kept in memory between the passes (about 0.5 KB each). */
interface Entry {
  readonly name: Buffer
  node: Node
  readonly ino: bigint
  readonly size: bigint
  readonly mtimeNs: bigint
  readonly ctimeNs: bigint
  /** A file whose content must be read by the next pass (new, changed, racy, or changing). */
  dirty: boolean
  /** Vanished or skipped after it was listed: not part of the tree. */
  gone: boolean
  children: Entry[] | undefined
}

/** What an entry is compared with: the previous pass's entry or the parent snapshot's node. */
interface Prev {
  readonly node: Node
  readonly ino: bigint
  readonly size: bigint
  readonly mtimeNs: bigint
  readonly ctimeNs: bigint
  readonly dirty: boolean
  readonly children?: readonly Entry[]
  readonly subtree?: TreeId
}

const prevOfNode = (n: Node): Prev => ({
  node: n,
  ino: n.inode ?? 0n,
  size: BigInt(n.size ?? 0),
  mtimeNs: n.mtime.unixNs,
  ctimeNs: n.ctime.unixNs,
  dirty: false,
  ...(n.subtree ? { subtree: n.subtree } : {}),
})

/** restic's change test (archiver.go, fileChanged): size, mtime, ctime and inode. */
export function fileChanged(st: BigIntStats, prev: Node | undefined): boolean {
  return (
    !prev ||
    prev.type !== 'file' ||
    BigInt(prev.size ?? 0) !== st.size ||
    prev.mtime.unixNs !== st.mtimeNs ||
    prev.ctime.unixNs !== st.ctimeNs ||
    (prev.inode ?? 0n) !== st.ino
  )
}

const emptyStats = (): FileCaptureStats => ({
  filesNew: 0,
  filesChanged: 0,
  filesUnmodified: 0,
  dirsNew: 0,
  dirsChanged: 0,
  dirsUnmodified: 0,
  totalFilesProcessed: 0,
  totalBytesProcessed: 0,
  bytesRead: 0,
  filesRead: 0,
  changedDuringRead: [],
  vanished: [],
  skipped: [],
})

/**
 * Captures one directory (a mount) or file in passes, for the steps of a consistent
 * snapshot (DESIGN.md, "Consistency and atomicity"):
 *
 * - `preCopy()` walks the source while the site runs and stores the content of every file
 *   that the parent snapshot does not already hold unchanged (restic's size, mtime, ctime
 *   and inode test). Each file's result stays in memory (about 0.5 KB per entry).
 * - `finalPass()`, inside the hold, re-stats everything and re-reads only the files that
 *   changed since the pre-copy, changed while it read them, or were modified within the
 *   timestamp tick of its stat. Nothing else is read: the pause is one stat walk plus the
 *   changes.
 * - `writeTree()` (after the hold is released) writes the trees into the snapshot.
 *
 * A live snapshot calls `preCopy()` then `writeTree()`. Symlinks are stored, never followed;
 * hard links met twice are read once per pass; names are raw bytes throughout.
 *
 * Not reentrant: the passes run one after the other.
 */
export class FileCapture {
  readonly stats: FileCaptureStats
  private root: Entry | undefined
  private readonly log: Logger
  private warnedXattrs = false
  private rootDir: Promise<string> | undefined

  constructor(
    private readonly writer: FilesWriter,
    private readonly source: FileSource,
    private readonly opts: FileCaptureOptions = {},
    stats?: FileCaptureStats,
  ) {
    this.log = opts.log ?? silentLogger
    this.stats = stats ?? emptyStats()
  }

  /** The first pass, incremental against the parent snapshot. Safe to call once. */
  async preCopy(): Promise<FileCaptureStats> {
    const parent = this.source.parentTree
      ? ({
          node: { type: 'dir' } as Node,
          ino: 0n,
          size: 0n,
          mtimeNs: 0n,
          ctimeNs: 0n,
          dirty: false,
          subtree: this.source.parentTree,
        } satisfies Prev)
      : this.source.parentNode
        ? prevOfNode(this.source.parentNode)
        : undefined
    this.root = await this.pass(parent, this.stats, !this.source.parentTree)
    return this.stats
  }

  /** The second pass: re-reads only what changed since `preCopy`. Call inside the hold. */
  async finalPass(): Promise<FinalPassStats> {
    const started = performance.now()
    const root = this.root
    if (!root) throw new CofferError('internal', 'finalPass before preCopy')
    const s = emptyStats()
    const prev: Prev = { ...entryAsPrev(root) }
    this.root = await this.pass(prev, s, false)
    // The snapshot's counts stay those against the parent; reads add up.
    this.stats.bytesRead += s.bytesRead
    this.stats.filesRead += s.filesRead
    this.stats.vanished.push(...s.vanished)
    // Files that changed during the pre-copy were re-read now: what is still listed is what
    // changed during this pass.
    this.stats.changedDuringRead.splice(
      0,
      this.stats.changedDuringRead.length,
      ...s.changedDuringRead,
    )
    return {
      entries: s.totalFilesProcessed,
      filesReread: s.filesRead,
      bytesRead: s.bytesRead,
      changedDuringRead: s.changedDuringRead,
      vanished: s.vanished,
      ms: Math.round(performance.now() - started),
    }
  }

  /**
   * Writes the captured entries into the snapshot's trees at the source's target; returns
   * the source directory's tree ID (undefined for a file source or a vanished source).
   */
  async writeTree(): Promise<TreeId | undefined> {
    const root = this.root
    if (!root) throw new CofferError('internal', 'writeTree before preCopy')
    if (root.gone) return undefined
    const target = this.source.target
    if (root.children) return this.emitDir(root, target)
    this.writer.addNode(target.slice(0, -1), root.node)
    return undefined
  }

  private async emitDir(e: Entry, target: TreePath): Promise<TreeId> {
    this.writer.addDir(target, e.node)
    for (const c of e.children ?? []) {
      if (c.gone) continue
      if (c.children) await this.emitDir(c, [...target, c.name])
      else this.writer.addNode(target, c.node)
    }
    return this.writer.finishDir(target)
  }

  /** One walk of the source against `prev`; reads what `prev` cannot vouch for. */
  private async pass(
    prev: Prev | undefined,
    stats: FileCaptureStats,
    first: boolean,
  ): Promise<Entry> {
    const { opts, log } = this
    const signal = opts.signal
    const limiter = new Limiter(opts.concurrency ?? 8)
    const links = new Map<string, Promise<Saved | undefined>>()
    const pending: Promise<void>[] = []
    const wantXattrs: { entry: Entry; path: Buffer }[] = []
    const rootPath = Buffer.from(await this.rootDirectory())
    const useXattrs = opts.xattrs ?? true
    // A first capture asks for every attribute below the source in one walk, beside ours.
    const startNs = wallNs()
    const tree: Promise<XattrMap | undefined> | undefined =
      useXattrs && first ? observed(readXattrTree(rootPath, signal)) : undefined

    // lstat is synchronous: microseconds on a local filesystem, where its promise form
    // costs the main thread several times that, once per file of every capture (see
    // file-restore.ts, setMeta, for the measurement).
    const statOrVanish = async (p: Buffer): Promise<BigIntStats | undefined> => {
      try {
        const st = lstatSync(p, { bigint: true, throwIfNoEntry: false })
        if (st) return st
        stats.vanished.push(show(p))
        log.warn({ path: show(p) }, 'file vanished during capture')
        return undefined
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          stats.vanished.push(show(p))
          log.warn({ path: show(p) }, 'file vanished during capture')
          return undefined
        }
        throw readError(e, p)
      }
    }

    const unreadable = (e: unknown, p: Buffer): boolean => {
      const code = (e as NodeJS.ErrnoException).code
      if (opts.skipUnreadable && (code === 'EACCES' || code === 'EPERM' || code === 'EIO')) {
        stats.skipped.push(show(p))
        log.warn({ path: show(p), code }, 'unreadable file skipped')
        return true
      }
      return false
    }

    const readOne = async (
      p: Buffer,
      st: BigIntStats,
      statNs: bigint,
    ): Promise<Saved | undefined> => {
      try {
        let saved = await this.writer.saveSmallFile(p, Number(st.size))
        if (saved) stats.bytesRead += saved.size
        else
          saved = await this.writer.saveContent(
            readFileChunks(p, st.size, (n) => (stats.bytesRead += n), signal),
          )
        stats.filesRead++
        let after: BigIntStats | undefined
        try {
          after = lstatSync(p, { bigint: true, throwIfNoEntry: false })
        } catch {
          after = undefined
        }
        const changed =
          !after || after.size !== st.size || after.mtimeNs !== st.mtimeNs || after.ino !== st.ino
        if (changed) {
          stats.changedDuringRead.push(show(p))
          log.warn({ path: show(p) }, 'file changed while it was read; stored as read')
        }
        return { ...saved, unsure: changed || st.ctimeNs >= statNs - RACY_NS }
      } catch (e) {
        if (signal?.aborted) throw signal.reason
        // The repository's failures (a full disk under it) are not this file's: as they are.
        if (!isFileError(e)) throw e
        const code = (e as NodeJS.ErrnoException).code
        if (code === 'ENOENT' || code === 'ELOOP') {
          // ELOOP: replaced by a symlink after the stat; the next pass sees the link.
          stats.vanished.push(show(p))
          log.warn({ path: show(p) }, 'file vanished during capture')
          return undefined
        }
        if (unreadable(e, p)) return undefined
        throw readError(e, p)
      }
    }

    const scheduleRead = (entry: Entry, p: Buffer, st: BigIntStats, statNs: bigint): void => {
      const key = st.nlink > 1n ? `${st.dev}:${st.ino}` : undefined
      pending.push(
        observed(
          limiter.run(async () => {
            let saved: Saved | undefined
            if (key) {
              let first = links.get(key)
              if (!first) {
                first = readOne(p, st, statNs)
                links.set(key, first)
              }
              saved = await first
            } else {
              saved = await readOne(p, st, statNs)
            }
            if (!saved) {
              entry.gone = true
              return
            }
            entry.node = { ...entry.node, content: saved.content, size: saved.size }
            entry.dirty = saved.unsure
            opts.onProgress?.(stats)
          }),
        ),
      )
    }

    /** Builds the entry of a non-directory; undefined when skipped or vanished. */
    const leaf = async (
      p: Buffer,
      name: Buffer,
      st: BigIntStats,
      pv: Prev | undefined,
      statNs: bigint,
    ): Promise<Entry | undefined> => {
      const type = nodeType(st)
      if (type === 'socket' || (type !== 'file' && type !== 'symlink' && opts.special === 'skip')) {
        stats.skipped.push(show(p))
        log.warn({ path: show(p), type }, 'special file skipped')
        return undefined
      }
      const sameInode = pv !== undefined && pv.node.type === type && pv.ino === st.ino
      const unchanged =
        sameInode && pv.ctimeNs === st.ctimeNs && pv.mtimeNs === st.mtimeNs && pv.size === st.size
      let node: Node
      let dirty = false
      if (type === 'file') {
        stats.totalFilesProcessed++
        stats.totalBytesProcessed += Number(st.size)
        if (unchanged && !pv.dirty) {
          stats.filesUnmodified++
          node = { ...nodeFromStat(name, st, { content: pv.node.content ?? [] }) }
        } else {
          if (pv) stats.filesChanged++
          else stats.filesNew++
          node = nodeFromStat(name, st)
          dirty = true
        }
      } else if (type === 'symlink') {
        let target: Uint8Array
        if (unchanged && pv.node.linkTarget) {
          target = pv.node.linkTarget
        } else {
          try {
            target = await readlink(p, { encoding: 'buffer' })
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
            throw readError(e, p)
          }
        }
        node = nodeFromStat(name, st, { linkTarget: target })
      } else {
        node = nodeFromStat(name, st)
      }
      const entry: Entry = {
        name,
        node,
        ino: st.ino,
        size: st.size,
        mtimeNs: st.mtimeNs,
        ctimeNs: st.ctimeNs,
        dirty,
        gone: false,
        children: undefined,
      }
      attrsOf(entry, p, pv, st)
      if (dirty) {
        await limiter.room(READS_AHEAD)
        scheduleRead(entry, p, st, statNs)
      }
      return entry
    }

    /** Reuses attributes when the inode's ctime (which any attribute change moves) is unchanged. */
    const attrsOf = (entry: Entry, p: Buffer, pv: Prev | undefined, st: BigIntStats): void => {
      if (!useXattrs) return
      if (
        pv &&
        pv.ino === st.ino &&
        pv.ctimeNs === st.ctimeNs &&
        pv.node.type === entry.node.type
      ) {
        if (pv.node.extendedAttributes)
          entry.node = { ...entry.node, extendedAttributes: pv.node.extendedAttributes }
        return
      }
      wantXattrs.push({ entry, path: p })
    }

    const dir = async (
      p: Buffer,
      name: Buffer,
      st: BigIntStats,
      pv: Prev | undefined,
      top: boolean,
    ): Promise<Entry> => {
      signal?.throwIfAborted()
      const entry: Entry = {
        name,
        node: nodeFromStat(name, st),
        ino: st.ino,
        size: 0n,
        mtimeNs: st.mtimeNs,
        ctimeNs: st.ctimeNs,
        dirty: false,
        gone: false,
        children: [],
      }
      attrsOf(entry, p, pv?.node.type === 'dir' ? pv : undefined, st)
      const hadPrev = pv?.node.type === 'dir'
      if (hadPrev) stats.dirsUnmodified++
      else stats.dirsNew++
      let names: Buffer[]
      try {
        names = await readdir(p, { encoding: 'buffer' })
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          stats.vanished.push(show(p))
          entry.gone = true
          return entry
        }
        if (unreadable(e, p)) {
          entry.gone = true
          return entry
        }
        throw readError(e, p)
      }
      if (top && opts.excludeStaging)
        names = names.filter((n) => !n.subarray(0, STAGE_PREFIX.length).equals(STAGE_PREFIX))
      names.sort((a, b) => Buffer.compare(a, b))
      const prevChildren = new Map<string, Prev>()
      if (hadPrev && pv.children) {
        for (const c of pv.children) if (!c.gone) prevChildren.set(latin1(c.name), entryAsPrev(c))
      } else if (hadPrev && pv.subtree && opts.parent) {
        for (const n of await opts.parent.loadTree(pv.subtree, signal))
          prevChildren.set(latin1(n.name), prevOfNode(n))
      }
      // Stat the directory's entries together (the thread pool overlaps them), then recurse.
      const statNs = wallNs()
      const stats_ = await statMany(
        names.map((n) => join(p, n)),
        statOrVanish,
      )
      const children: Entry[] = []
      for (let i = 0; i < names.length; i++) {
        const cst = stats_[i]
        const cname = names[i]!
        if (!cst) continue
        const cp = join(p, cname)
        const cpv = prevChildren.get(latin1(cname))
        if (nodeType(cst) === 'dir') {
          children.push(await dir(cp, cname, cst, cpv, false))
        } else {
          const e = await leaf(cp, cname, cst, cpv, statNs)
          if (e) children.push(e)
        }
      }
      entry.children = children
      return entry
    }

    const rootName = Buffer.from(this.source.target.at(-1) ?? Buffer.alloc(0))
    let root: Entry | undefined
    let failure: { error: unknown } | undefined
    try {
      const st = await lstat(rootPath, { bigint: true }).catch((e: unknown) => {
        throw readError(e, rootPath)
      })
      if (nodeType(st) === 'dir') {
        root = await dir(rootPath, rootName, st, prev, true)
      } else {
        if (this.source.target.length === 0)
          throw new CofferError(
            'invalid_input',
            `Cannot capture ${this.source.path} as the snapshot root.`,
          )
        root = await leaf(rootPath, rootName, st, prev, wallNs())
      }
    } catch (error) {
      failure = { error }
    }
    // Let started reads finish (or fail) before the pass ends or fails.
    await settleAll(pending, failure)
    if (tree) await tree.catch(() => undefined)
    if (!root) {
      root = {
        name: rootName,
        node: { type: 'file' } as Node,
        ino: 0n,
        size: 0n,
        mtimeNs: 0n,
        ctimeNs: 0n,
        dirty: false,
        gone: true,
        children: undefined,
      }
    }
    await this.resolveXattrs(wantXattrs, tree, startNs)
    return root
  }

  /** What is captured: the source's path, or where a link there leads (`followRootLink`). */
  private rootDirectory(): Promise<string> {
    this.rootDir ??= this.opts.followRootLink
      ? mountDirectory(this.source.path, 'capture_failed')
      : Promise.resolve(this.source.path)
    return this.rootDir
  }

  private async resolveXattrs(
    want: readonly { entry: Entry; path: Buffer }[],
    tree: Promise<XattrMap | undefined> | undefined,
    startNs: bigint,
  ): Promise<void> {
    if (want.length === 0) return
    const known = tree ? await tree : undefined
    // What the recursive read saw is good for inodes unchanged since before it started.
    const ask = known ? want.filter((w) => w.entry.ctimeNs >= startNs - RACY_NS) : want
    const asked = await readXattrsOf(
      ask.map((w) => w.path),
      this.opts.signal,
    )
    if ((tree && !known) || !asked) {
      if (!this.warnedXattrs)
        this.log.warn(
          { path: this.source.path },
          'extended attributes not captured: getfattr (Debian package attr) is not installed',
        )
      this.warnedXattrs = true
      return
    }
    for (const w of want) {
      const k = latin1(w.path)
      const attrs: readonly ExtendedAttribute[] | undefined = asked.get(k) ?? known?.get(k)
      if (attrs) w.entry.node = { ...w.entry.node, extendedAttributes: attrs }
      else if (w.entry.node.extendedAttributes) {
        const { extendedAttributes: _drop, ...rest } = w.entry.node
        void _drop
        w.entry.node = rest
      }
    }
  }
}

interface Saved {
  readonly content: BlobId[]
  readonly size: number
  /** Changed while read, or racily clean: the next pass must read it again. */
  readonly unsure: boolean
}

function entryAsPrev(e: Entry): Prev {
  return {
    node: e.node,
    ino: e.ino,
    size: e.size,
    mtimeNs: e.mtimeNs,
    ctimeNs: e.ctimeNs,
    dirty: e.dirty,
    ...(e.children ? { children: e.children } : {}),
  }
}

/** lstat of many paths, a bounded number at once; undefined where a path vanished. */
async function statMany(
  paths: readonly Buffer[],
  stat: (p: Buffer) => Promise<BigIntStats | undefined>,
): Promise<(BigIntStats | undefined)[]> {
  const out: (BigIntStats | undefined)[] = new Array<BigIntStats | undefined>(paths.length)
  const BATCH = 64
  for (let i = 0; i < paths.length; i += BATCH) {
    const part = await Promise.all(paths.slice(i, i + BATCH).map(stat))
    for (let j = 0; j < part.length; j++) out[i + j] = part[j]
  }
  return out
}

/**
 * Captures directories and files into a snapshot being written in one pass each (a
 * FileCapture's `preCopy` then `writeTree`), as restic's archiver does: with a parent
 * snapshot, a file whose size, mtime, ctime and inode are unchanged reuses the parent's
 * blobs without being read. Hard links met twice are read once. Names are raw bytes
 * throughout, so any name the filesystem allows is kept exactly. Symlinks are stored, never
 * followed. Files that change while read are stored as read and listed in the stats.
 *
 * Errors: a path that cannot be read rejects with a CofferError (`capture_failed`) naming it,
 * unless `skipUnreadable`; vanished files are listed, not fatal.
 */
export async function captureFiles(
  writer: FilesWriter,
  sources: readonly FileSource[],
  opts: FileCaptureOptions = {},
): Promise<FileCaptureStats> {
  const stats = emptyStats()
  for (const src of sources) {
    const c = new FileCapture(writer, src, opts, stats)
    await c.preCopy()
    await c.writeTree()
  }
  return stats
}

/**
 * Whether an error of reading and saving a file is the file's: a system error (`code`
 * EACCES, EIO…, as `fs` and the workers' reads give them), not the repository's (a
 * BackendError, or a worker's failure to write a pack).
 */
function isFileError(e: unknown): boolean {
  return !(e instanceof CofferError) && typeof (e as NodeJS.ErrnoException).code === 'string'
}

function readError(e: unknown, p: Buffer): CofferError {
  const code = (e as NodeJS.ErrnoException).code ?? 'error'
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'ENOENT'
        ? 'no such file or directory'
        : code
  return new CofferError('capture_failed', `Cannot read ${show(p)}: ${why}.`, { cause: e })
}
