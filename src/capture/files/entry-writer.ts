import { spawn } from 'node:child_process'
import { chmodSync, constants, lchownSync, lutimesSync, utimesSync } from 'node:fs'
import { copyFile, link, symlink } from 'node:fs/promises'
import { CofferError } from '../../errors.js'
import {
  posixPermFromGo,
  type ContentByPackOptions,
  type ContentJob,
  type ContentSink,
  type ExtendedAttribute,
  type Node,
} from '../../repo/index.js'
import { FileQueue, type QueuedFile } from './file-queue.js'
import { writeXattrs } from './xattr-tool.js'

/** What writing entries needs from the repository: many files' content, pack by pack (RepoReader). */
export interface ContentSource {
  readContents<J extends ContentJob>(
    jobs: readonly J[],
    sink: ContentSink<J>,
    opts?: ContentByPackOptions,
  ): Promise<void>
}

/**
 * A time for utimes, in seconds, aimed at the middle of the time's microsecond: Node sets
 * times through a double that the file system call truncates to microseconds toward zero,
 * so a double just beside a whole microsecond (the nearest one often is) would land a
 * microsecond off. The time set is then the snapshot's, floored to the microsecond (planners
 * allow 1 µs). Times before 1970 are given as a numeric string: Node replaces a negative
 * number by the current time (its toUnixTimestamp), but takes a string as the number it
 * spells, and libuv sets negative times as they are.
 */
export const utimeOf = (ns: bigint): number | string => {
  const s = ns / 1_000_000_000n - (ns < 0n && ns % 1_000_000_000n !== 0n ? 1n : 0n)
  const us = (ns - s * 1_000_000_000n) / 1000n
  const floored = Number(s) + Number(us) / 1e6
  // Toward zero is down for a time after 1970 and up for one before.
  return floored >= 0 ? floored + 0.5e-6 : String(floored - 0.5e-6)
}

export interface WrittenStats {
  files: number
  bytes: number
}

/**
 * Creates entries at fresh paths of a staging area (never over anything: O_EXCL and
 * O_NOFOLLOW for files, so a path that exists — a symlink planted anywhere — fails instead
 * of being followed), with the snapshot's metadata: owner (when `owners`), permission bits,
 * times. Extended attributes are collected and set in one batch by `flushXattrs`, after
 * which nothing else may be written (setting times after attributes is fine: they do not
 * move the mtime).
 */
export class EntryWriter {
  private readonly xattrs: { path: Buffer; attrs: readonly ExtendedAttribute[] }[] = []
  private readonly files: FileQueue<QueuedFile & { readonly written: () => void }>

  constructor(
    repo: ContentSource,
    private readonly owners: boolean,
    readonly stats: WrittenStats,
    private readonly signal?: AbortSignal,
  ) {
    this.files = new FileQueue(
      repo,
      stats,
      async (f) => {
        this.stats.files++
        await this.setMeta(f.path, f.node)
        f.written()
      },
      signal,
    )
  }

  /**
   * Creates a file at `p` now and queues its content: `writeFiles` writes it (pack by pack,
   * with every other file queued) and sets its metadata. The promise settles once it is
   * complete; it never rejects (a failure is `writeFiles`'s).
   */
  queueFile(p: Buffer, node: Node): Promise<void> {
    return new Promise((written) => this.files.add({ path: p, node, written }))
  }

  /** Writes the content of the files queued (see FileQueue.writeAll). */
  async writeFiles(): Promise<void> {
    await this.files.writeAll()
  }

  /** Forgets the files queued once their creation settled, so that they can be removed. */
  async dropFiles(): Promise<void> {
    await this.files.drop()
  }

  /** Copies a local file whose content is the snapshot's (clone where the filesystem can). */
  async copyFile(from: Buffer, p: Buffer, node: Node): Promise<void> {
    await copyFile(from, p, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE)
    await this.setMeta(p, node)
  }

  /** Creates a symlink, FIFO or device node. */
  async make(p: Buffer, node: Node): Promise<void> {
    if (node.type === 'symlink') {
      await symlink(Buffer.from(node.linkTarget ?? Buffer.alloc(0)), p)
      await this.setMeta(p, node)
      return
    }
    await makeSpecial(p, node)
    await this.setMeta(p, node)
  }

  async link(existing: Buffer, p: Buffer): Promise<void> {
    await link(existing, p)
  }

  /** Owner, permission bits, times (and attributes, later) of an entry the restore made. */
  async setMeta(p: Buffer, node: Node): Promise<void> {
    setEntryMeta(p, node, this.owners)
    if (node.extendedAttributes?.length)
      this.xattrs.push({ path: p, attrs: node.extendedAttributes })
  }

  /** Sets the collected extended attributes (one setfattr run). */
  async flushXattrs(): Promise<void> {
    const batch = this.xattrs.splice(0)
    await writeXattrs(batch, this.signal)
  }
}

/**
 * Owner (when `owners`; a failure goes to `onOwnerError` when given, else is thrown),
 * permission bits and times of an entry, chown first: it clears setuid/setgid bits that chmod
 * then sets.
 *
 * Synchronous on purpose, as the look-ups and renames around it: each call takes
 * microseconds on a local filesystem, while its promise form costs the main thread about
 * three times as much in dispatch and completion, and a restore makes several per file
 * (measured: 3,000 files' owner, mode, times, lstat and rename 282 ms synchronous, 695–876 ms
 * as promises with the event loop 90 % busy).
 */
export function setEntryMeta(
  p: Buffer,
  node: Node,
  owners: boolean,
  onOwnerError?: (e: unknown) => void,
): void {
  const isLink = node.type === 'symlink'
  if (owners) {
    try {
      lchownSync(p, node.uid, node.gid)
    } catch (e) {
      if (!onOwnerError) throw e
      onOwnerError(e)
    }
  }
  if (!isLink && node.mode !== undefined) chmodSync(p, posixPermFromGo(node.mode))
  const atime = utimeOf(node.atime.unixNs)
  const mtime = utimeOf(node.mtime.unixNs)
  if (isLink) lutimesSync(p, atime, mtime)
  else utimesSync(p, atime, mtime)
}

/** Creates the FIFO or device node `node` at `p` (mode 600 until its metadata is set). */
export function makeSpecial(p: Buffer, node: Node): Promise<void> {
  const args: Buffer[] =
    node.type === 'fifo'
      ? [p, Buffer.from('p')]
      : [
          p,
          Buffer.from(node.type === 'dev' ? 'b' : 'c'),
          ...majorMinor(node.device ?? 0n).map((s) => Buffer.from(s)),
        ]
  return runMknod(args)
}

function runMknod(args: readonly Buffer[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // Arguments as raw bytes: Node passes Buffers through only as strings, so go through
    // xargs, which takes NUL-separated raw arguments on stdin.
    const child = spawn('xargs', ['-0', 'mknod', '-m', '600', '--'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new CofferError('restore_failed', `mknod failed: ${err.trim()}`)),
    )
    child.stdin.end(Buffer.concat(args.flatMap((a) => [a, Buffer.from([0])])))
  })
}

/** Major and minor numbers of a Linux dev_t (glibc's gnu_dev_major / gnu_dev_minor). */
function majorMinor(dev: bigint): [string, string] {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn)
  return [String(major), String(minor)]
}
