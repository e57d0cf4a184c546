import { spawn } from 'node:child_process'
import { constants } from 'node:fs'
import { chmod, copyFile, lchown, link, lutimes, open, symlink, utimes } from 'node:fs/promises'
import { CofferError } from '../../errors.js'
import {
  posixPermFromGo,
  type BlobId,
  type ExtendedAttribute,
  type Node,
} from '../../repo/index.js'
import { writeXattrs } from './xattr-tool.js'

/** What writing an entry needs from the repository: a file's content as a byte stream. */
export interface ContentSource {
  readContent(
    content: readonly BlobId[],
    opts?: { readonly signal?: AbortSignal },
  ): AsyncIterable<Uint8Array>
}

/**
 * Seconds as a double for utimes, aimed at the middle of the time's microsecond: Node sets
 * times through a double that the file system call truncates to microseconds, so a double
 * just below a whole microsecond (the nearest one often is) would land a microsecond early.
 * The time set is then the snapshot's, truncated to the microsecond (planners allow 1 µs).
 */
export const seconds = (ns: bigint): number => {
  const s = ns / 1_000_000_000n - (ns < 0n && ns % 1_000_000_000n !== 0n ? 1n : 0n)
  const us = (ns - s * 1_000_000_000n) / 1000n
  return Number(s) + (Number(us) + 0.5) / 1e6
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

  constructor(
    private readonly repo: ContentSource,
    private readonly owners: boolean,
    readonly stats: WrittenStats,
    private readonly signal?: AbortSignal,
  ) {}

  /** Writes a file's content from the repository at `p`, checking its length. */
  async writeFile(p: Buffer, node: Node): Promise<void> {
    const fh = await open(
      p,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    )
    let pos = 0
    try {
      for await (const buf of this.repo.readContent(node.content ?? [], {
        ...(this.signal ? { signal: this.signal } : {}),
      })) {
        let off = 0
        while (off < buf.length) {
          const { bytesWritten } = await fh.write(buf, off, buf.length - off, pos)
          off += bytesWritten
          pos += bytesWritten
        }
        this.stats.bytes += buf.length
      }
    } finally {
      await fh.close()
    }
    if (node.size !== undefined && pos !== node.size)
      throw new CofferError(
        'restore_failed',
        `${p.toString()}: restored ${pos} bytes, the snapshot says ${node.size}.`,
      )
    this.stats.files++
    await this.setMeta(p, node)
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
    const dev = node.device ?? 0n
    const args: Buffer[] =
      node.type === 'fifo'
        ? [p, Buffer.from('p')]
        : [
            p,
            Buffer.from(node.type === 'dev' ? 'b' : 'c'),
            ...majorMinor(dev).map((s) => Buffer.from(s)),
          ]
    await runMknod(args)
    await this.setMeta(p, node)
  }

  async link(existing: Buffer, p: Buffer): Promise<void> {
    await link(existing, p)
  }

  /** Owner, permission bits, times (and attributes, later) of an entry the restore made. */
  async setMeta(p: Buffer, node: Node): Promise<void> {
    const isLink = node.type === 'symlink'
    // chown first: it clears setuid/setgid bits that chmod then sets.
    if (this.owners) await lchown(p, node.uid, node.gid)
    if (!isLink && node.mode !== undefined) await chmod(p, posixPermFromGo(node.mode))
    const atime = seconds(node.atime.unixNs)
    const mtime = seconds(node.mtime.unixNs)
    if (isLink) await lutimes(p, atime, mtime)
    else await utimes(p, atime, mtime)
    if (node.extendedAttributes?.length)
      this.xattrs.push({ path: p, attrs: node.extendedAttributes })
  }

  /** Sets the collected extended attributes (one setfattr run). */
  async flushXattrs(): Promise<void> {
    const batch = this.xattrs.splice(0)
    await writeXattrs(batch, this.signal)
  }
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
