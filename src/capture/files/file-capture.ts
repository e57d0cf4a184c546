import type { BigIntStats } from 'node:fs'
import { lstat, open, readdir, readlink } from 'node:fs/promises'
import { CofferError } from '../../errors.js'
import { Limiter, observed, settleAll, silentLogger, type Logger } from '../../lib/index.js'
import type { BlobId, Node, RepoReader, TreeId, TreePath } from '../../repo/index.js'
import { nodeFromStat, nodeType } from './node-from-stat.js'

/** What file capture needs from a snapshot being written (SnapshotWriter provides it). */
export interface FilesWriter {
  saveContent(
    source: AsyncIterable<Uint8Array>,
    opts?: { onBytes?: (n: number) => void },
  ): Promise<{ readonly content: BlobId[]; readonly size: number }>
  addNode(dir: TreePath, node: Node): void
  addDir(path: TreePath, meta?: Node): void
  finishDir(path: TreePath): Promise<TreeId>
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
  readonly parent?: RepoReader
  /** FIFOs, devices and sockets: store them as nodes (restic's way) or skip and log them. */
  readonly special?: 'store' | 'skip'
  /** Skip (and log) files that cannot be read instead of failing. */
  readonly skipUnreadable?: boolean
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
  /** Paths that changed while being read (stored as read). */
  readonly changedDuringRead: string[]
  /** Paths that vanished during the walk. */
  readonly vanished: string[]
  /** Special files and unreadable files that were skipped. */
  readonly skipped: string[]
}

const SMALL_FILE = 512 * 1024
const READ_SIZE = 1024 * 1024

const join = (dir: Buffer, name: Uint8Array): Buffer => Buffer.concat([dir, Buffer.from('/'), name])
const show = (p: Buffer): string => p.toString('utf8')

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

/**
 * Captures directories and files into a snapshot being written, as restic's archiver does:
 * depth-first, each directory sealed once its entries are in, files read with bounded
 * concurrency. With a parent snapshot, a file whose size, mtime, ctime and inode are
 * unchanged reuses the parent's blobs without being read. Hard links met twice are read
 * once. Names are raw bytes throughout, so any name the filesystem allows is kept exactly.
 * Symlinks are stored, never followed.
 */
export async function captureFiles(
  writer: FilesWriter,
  sources: readonly FileSource[],
  opts: FileCaptureOptions = {},
): Promise<FileCaptureStats> {
  const log = opts.log ?? silentLogger
  const limiter = new Limiter(opts.concurrency ?? 8)
  const links = new Map<string, Promise<{ content: BlobId[]; size: number }>>()
  const stats: FileCaptureStats = {
    filesNew: 0,
    filesChanged: 0,
    filesUnmodified: 0,
    dirsNew: 0,
    dirsChanged: 0,
    dirsUnmodified: 0,
    totalFilesProcessed: 0,
    totalBytesProcessed: 0,
    bytesRead: 0,
    changedDuringRead: [],
    vanished: [],
    skipped: [],
  }
  const signal = opts.signal

  const statOrVanish = async (p: Buffer): Promise<BigIntStats | undefined> => {
    try {
      return await lstat(p, { bigint: true })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        stats.vanished.push(show(p))
        log.warn({ path: show(p) }, 'file vanished during capture')
        return undefined
      }
      throw readError(e, p)
    }
  }

  async function* readFile(p: Buffer, size: bigint): AsyncGenerator<Uint8Array> {
    const fh = await open(p, 'r')
    try {
      if (size < SMALL_FILE) {
        // One read: small files are one chunk anyway.
        const buf = Buffer.allocUnsafeSlow(Number(size) + 1)
        let got = 0
        for (;;) {
          const { bytesRead } = await fh.read(buf, got, buf.length - got, null)
          if (bytesRead === 0) break
          got += bytesRead
          if (got === buf.length) {
            // Grew while being read: continue with the streaming path for the rest.
            yield buf.subarray(0, got)
            yield* readRest(fh)
            return
          }
        }
        stats.bytesRead += got
        if (got > 0) yield buf.subarray(0, got)
        return
      }
      yield* readRest(fh)
    } finally {
      await fh.close()
    }
  }

  async function* readRest(fh: Awaited<ReturnType<typeof open>>): AsyncGenerator<Uint8Array> {
    for (;;) {
      signal?.throwIfAborted()
      const buf = Buffer.allocUnsafeSlow(READ_SIZE)
      const { bytesRead } = await fh.read(buf, 0, READ_SIZE, null)
      if (bytesRead === 0) return
      stats.bytesRead += bytesRead
      yield buf.subarray(0, bytesRead)
    }
  }

  const saveFile = async (
    p: Buffer,
    st: BigIntStats,
  ): Promise<{ content: BlobId[]; size: number } | undefined> => {
    try {
      const saved = await writer.saveContent(readFile(p, st.size))
      const after = await lstat(p, { bigint: true }).catch(() => undefined)
      if (!after || after.size !== st.size || after.mtimeNs !== st.mtimeNs) {
        stats.changedDuringRead.push(show(p))
        log.warn({ path: show(p) }, 'file changed while it was read; stored as read')
      }
      return saved
    } catch (e) {
      if (signal?.aborted) throw signal.reason
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'ENOENT') {
        stats.vanished.push(show(p))
        return undefined
      }
      if (opts.skipUnreadable && (code === 'EACCES' || code === 'EPERM' || code === 'EIO')) {
        stats.skipped.push(show(p))
        log.warn({ path: show(p), code }, 'unreadable file skipped')
        return undefined
      }
      throw readError(e, p)
    }
  }

  /** Adds one entry (not a directory) to `dir`; files are saved in the background. */
  const captureEntry = async (
    dir: TreePath,
    p: Buffer,
    name: Uint8Array,
    st: BigIntStats,
    prev: Node | undefined,
    pending: Promise<void>[],
  ): Promise<void> => {
    const type = nodeType(st)
    if (type === 'file') {
      stats.totalFilesProcessed++
      stats.totalBytesProcessed += Number(st.size)
      if (!fileChanged(st, prev) && prev) {
        stats.filesUnmodified++
        writer.addNode(dir, nodeFromStat(name, st, { content: prev.content ?? [] }))
        return
      }
      if (prev) stats.filesChanged++
      else stats.filesNew++
      const linkKey = st.nlink > 1n ? `${st.dev}:${st.ino}` : undefined
      pending.push(
        observed(
          limiter.run(async () => {
            let saved: { content: BlobId[]; size: number } | undefined
            if (linkKey) {
              let first = links.get(linkKey)
              if (!first) {
                first = saveFile(p, st).then((s) => s ?? { content: [], size: -1 })
                links.set(linkKey, first)
              }
              const s = await first
              saved = s.size < 0 ? undefined : s
            } else {
              saved = await saveFile(p, st)
            }
            if (saved)
              writer.addNode(dir, {
                ...nodeFromStat(name, st, { content: saved.content }),
                size: saved.size,
              })
            opts.onProgress?.(stats)
          }),
        ),
      )
      return
    }
    if (type === 'symlink') {
      let target: Buffer
      try {
        target = await readlink(p, { encoding: 'buffer' })
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
        throw readError(e, p)
      }
      writer.addNode(dir, nodeFromStat(name, st, { linkTarget: target }))
      return
    }
    if (type === 'socket' || opts.special === 'skip') {
      // restic skips sockets too: they cannot be restored meaningfully.
      stats.skipped.push(show(p))
      log.warn({ path: show(p), type }, 'special file skipped')
      return
    }
    writer.addNode(dir, nodeFromStat(name, st))
  }

  const captureDir = async (
    p: Buffer,
    target: TreePath,
    st: BigIntStats,
    prevTree: TreeId | undefined,
  ): Promise<void> => {
    signal?.throwIfAborted()
    writer.addDir(target, nodeFromStat(target.at(-1) ?? Buffer.alloc(0), st))
    if (prevTree) stats.dirsUnmodified++
    else stats.dirsNew++
    let names: Buffer[]
    try {
      names = await readdir(p, { encoding: 'buffer' })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        stats.vanished.push(show(p))
        return
      }
      if (opts.skipUnreadable && (e as NodeJS.ErrnoException).code === 'EACCES') {
        stats.skipped.push(show(p))
        return
      }
      throw readError(e, p)
    }
    names.sort((a, b) => Buffer.compare(a, b))
    const prevNodes = new Map<string, Node>()
    if (prevTree && opts.parent) {
      for (const n of await opts.parent.loadTree(prevTree, signal))
        prevNodes.set(Buffer.from(n.name).toString('latin1'), n)
    }
    const pending: Promise<void>[] = []
    let failure: { error: unknown } | undefined
    try {
      for (const name of names) {
        const child = join(p, name)
        const cst = await statOrVanish(child)
        if (!cst) continue
        const prev = prevNodes.get(name.toString('latin1'))
        if (nodeType(cst) === 'dir') {
          await captureDir(
            child,
            [...target, name],
            cst,
            prev?.type === 'dir' ? prev.subtree : undefined,
          )
        } else {
          await captureEntry(target, child, name, cst, prev, pending)
        }
      }
    } catch (error) {
      failure = { error }
    }
    // Let started reads finish (or fail) before the directory is sealed or abandoned.
    await settleAll(pending, failure)
    await writer.finishDir(target)
  }

  for (const src of sources) {
    const p = Buffer.from(src.path)
    const st = await lstat(p, { bigint: true }).catch((e: unknown) => {
      throw readError(e, p)
    })
    if (nodeType(st) === 'dir') {
      await captureDir(p, src.target, st, src.parentTree)
    } else {
      const name = src.target.at(-1)
      if (!name)
        throw new CofferError('invalid_input', `Cannot capture ${src.path} as the snapshot root.`)
      const pending: Promise<void>[] = []
      await captureEntry(src.target.slice(0, -1), p, name, st, src.parentNode, pending)
      await Promise.all(pending)
    }
  }
  return stats
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
