import { closeSync, constants, openSync, writeSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { CofferError } from '../../errors.js'
import { Limiter, observed } from '../../lib/index.js'
import type { BlobId, Node } from '../../repo/index.js'
import type { ContentSource } from './entry-writer.js'

/** A file for a FileQueue: where to write it, and its node in the snapshot. */
export interface QueuedFile {
  readonly path: Buffer
  readonly node: Node
}

interface Entry<F> {
  readonly file: F
  readonly content: readonly BlobId[]
  /**
   * Settles once the empty file exists at its path; at once for a file the write of its only
   * blob creates (`createOnWrite`).
   */
  readonly created: Promise<void>
  readonly createOnWrite: boolean
  /** Whether a write from this thread has created it (a one-blob file's blob loaded again). */
  createdHere?: boolean
}

/**
 * Writes the files of a restore pack by pack (ContentSource.readContents): `writeAll` reads
 * every pack the files need once, and the crypto workers write each blob where it goes (a
 * blob loaded again after damage is written here). A file of one blob (most files) is
 * created by the worker that writes it; others (empty, or of several blobs written by
 * different workers) are created empty as soon as added, in the thread pool, three at a
 * time. A file is `complete` once it has all its bytes and the snapshot's length.
 *
 * Creating a file on this thread cost two hand-offs to the thread pool (open, close) and the
 * worker a second open; on this kind of machine each hand-off costs the main thread about
 * 50 µs, and a restore of 15,000 photos spent seconds creating files before writing any.
 *
 * Paths are created with O_EXCL and O_NOFOLLOW (never over anything, never through a
 * symlink): they must be fresh names in a staging area or temporary names.
 */
export class FileQueue<F extends QueuedFile> {
  private readonly entries: Entry<F>[] = []
  // Three at once leave a thread of libuv's pool (four) to the pack reads.
  private readonly creating = new Limiter(3)

  constructor(
    private readonly source: ContentSource,
    private readonly stats: { bytes: number },
    private readonly complete: (file: F) => void | Promise<void>,
    private readonly signal?: AbortSignal,
  ) {}

  add(file: F): void {
    const content = file.node.content ?? []
    if (content.length === 1) {
      this.entries.push({ file, content, created: Promise.resolve(), createOnWrite: true })
      return
    }
    const created = observed(this.creating.run(() => createEmptyFile(file.path)))
    this.entries.push({ file, content, created, createOnWrite: false })
  }

  /** Forgets the files added, once their creations have settled (a failed walk's clean-up). */
  async drop(): Promise<void> {
    await Promise.allSettled(this.entries.splice(0).map((e) => e.created))
  }

  /**
   * Writes every file added so far. Returns, or throws, only once every file creation has
   * settled, so that the caller may clean up what exists.
   */
  async writeAll(): Promise<void> {
    const entries = this.entries.splice(0)
    try {
      await this.source.readContents(
        entries,
        {
          write: async (e, offset, data) => {
            await e.created
            const create = e.createOnWrite && !e.createdHere
            writeAtSync(e.file.path, data, offset, create)
            if (create) e.createdHere = true
            this.stats.bytes += data.length
          },
          finish: async (e, size) => {
            await e.created
            const want = e.file.node.size
            if (want !== undefined && size !== want) {
              throw new CofferError(
                'restore_failed',
                `${e.file.path.toString()}: restored ${size} bytes, the snapshot says ${want}.`,
              )
            }
            await this.complete(e.file)
          },
          files: {
            path: async (e) => {
              await e.created
              return e.file.path
            },
            wrote: (_e, n) => {
              this.stats.bytes += n
            },
            createOnWrite: (e) => e.createOnWrite,
          },
        },
        this.signal ? { signal: this.signal } : {},
      )
    } finally {
      await Promise.allSettled(entries.map((e) => e.created))
    }
  }
}

const CREATE_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW

/**
 * Creates an empty file at `p` (never over anything: O_EXCL, O_NOFOLLOW), in the thread pool:
 * creating a file costs 100–500 µs on ext4 here (150 µs alone, more beside a restore's
 * reads), about as much as writing 100 KB into it.
 */
async function createEmptyFile(p: Buffer): Promise<void> {
  await (await open(p, CREATE_FLAGS, 0o600)).close()
}

/**
 * Writes `data` at `offset` of the file at `p`, which createEmptyFile made (still opened with
 * O_NOFOLLOW), or creates it (`create`: O_EXCL). Synchronous on purpose: a write into the page cache takes microseconds, while
 * its promise form costs the main thread far more and contends in the thread pool with the
 * pack reads (measured before: 3,000 files of 100 KB, 0.4 s synchronous, 2.1–2.8 s as
 * promises four at a time). A blob is at most 8 MiB.
 */
function writeAtSync(p: Buffer, data: Uint8Array, offset: number, create: boolean): void {
  const fd = openSync(p, create ? CREATE_FLAGS : constants.O_WRONLY | constants.O_NOFOLLOW, 0o600)
  try {
    for (let off = 0; off < data.length;) {
      off += writeSync(fd, data, off, data.length - off, offset + off)
    }
  } finally {
    closeSync(fd)
  }
}
