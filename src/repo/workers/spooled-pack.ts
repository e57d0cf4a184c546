import { createHash, randomBytes, type Hash } from 'node:crypto'
import { closeSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import type { Scratch } from '../../lib/index.js'
import type { SpooledFile } from '../backend/backend.js'
import { sealBlobInto } from '../blob-codec.js'
import { seal } from '../crypto/authenticated-encryption.js'
import type { MasterKey } from '../crypto/index.js'
import { encodePackHeader } from '../pack/pack-header.js'
import type { BlobType, PackEntry } from '../pack/index.js'
import type { PackFromWorker } from './crypto-messages.js'
import { addEntry, type OpenPack } from './worker-pack.js'

/** Sealed blobs are gathered up to this much before a write (small files' blobs are small). */
const SPOOL_BATCH_BYTES = 1024 * 1024

/** The batch buffers of a thread's spooled packs, kept between packs. */
export class SpoolBatches {
  private readonly spare: Buffer[] = []

  take(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(SPOOL_BATCH_BYTES)
  }

  give(b: Buffer): void {
    if (this.spare.length < 2) this.spare.push(b)
  }
}

/**
 * A data pack a worker writes to a file of the repository's spool (PackSpool) as it seals
 * its blobs, hashing them on the way: a pack in a buffer holds up to 17 MB on each worker
 * for each backup, and as much again while it is saved, where this holds a 1 MiB batch.
 * The finished file is closed and named to the main thread, which flushes it to disk and
 * renames it into place (PackSpool.adopt). The file's bytes are restic's pack format as
 * WorkerPack builds it.
 *
 * A failed write (a full disk) removes the file at once and fails this and every later
 * blob of the pack: blobs already in it are lost, and the backup must fail, not go on.
 */
export class SpooledPack implements OpenPack {
  private readonly file: SpooledFile
  private readonly fd: number
  private readonly dir: string
  private batch: Buffer | undefined
  private batched = 0
  private written = 0
  private readonly entries: PackEntry[] = []
  private readonly hash: Hash = createHash('sha256')
  private failure: Error | undefined
  /** Whether the descriptor is open, and whether the file went to the main thread. */
  private open = true
  private handedOver = false

  /** `large`: where a blob bigger than a batch is sealed before its own write. */
  constructor(
    private readonly type: BlobType,
    readonly packSize: number,
    spool: { readonly dir: string; readonly mode: number },
    private readonly batches: SpoolBatches,
    private readonly large: Scratch,
  ) {
    const path = join(
      spool.dir,
      `pack-${process.pid}-${threadId}-${randomBytes(6).toString('hex')}`,
    )
    let fd: number
    try {
      fd = openSync(path, 'wx', spool.mode)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw spoolError(spool.dir, e)
      try {
        mkdirSync(spool.dir, { recursive: true, mode: 0o700 })
        fd = openSync(path, 'wx', spool.mode)
      } catch (e2) {
        throw spoolError(spool.dir, e2)
      }
    }
    this.file = { path }
    this.fd = fd
    this.dir = spool.dir
    this.batch = batches.take()
  }

  get size(): number {
    return this.written + this.batched
  }

  get full(): boolean {
    return this.size >= this.packSize
  }

  add(
    key: MasterKey,
    id: string,
    plaintext: Uint8Array,
    compress: boolean,
  ): { readonly length: number; readonly uncompressedLength?: number } {
    const offset = this.size
    const s = this.guarded(() => {
      const sealed = sealBlobInto(key, this.type, plaintext, compress, (n) => this.reserve(n))
      this.append(sealed.sealed)
      return sealed
    })
    return addEntry(this.entries, this.type, id, offset, s)
  }

  /** Appends the sealed header and its length; the closed file goes to the caller. */
  finish(key: MasterKey): PackFromWorker {
    const id = this.guarded(() => {
      const header = seal(key, encodePackHeader(this.entries))
      const out = this.reserve(header.length + 4)
      header.copy(out, 0)
      out.writeUInt32LE(header.length, header.length)
      this.append(out)
      this.flush()
      return this.hash.digest('hex')
    })
    return this.handOver(id)
  }

  /** The blobs as they are, without a header (see WorkerPack.takeBlobs). */
  takeBlobs(): PackFromWorker {
    this.guarded(() => this.flush())
    return this.handOver('')
  }

  /** Closes and removes the file (an abandoned backup, or a failed write). */
  discard(): void {
    this.releaseBatch()
    if (this.handedOver) return
    this.closeFile()
    try {
      unlinkSync(this.file.path)
    } catch {
      // Gone already, or the spool is unreadable: prune clears what is left.
    }
  }

  /** Closes the file (the main thread flushes it to disk with a descriptor of its own). */
  private handOver(id: string): PackFromWorker {
    this.releaseBatch()
    try {
      this.closeFile(true)
    } catch (e) {
      this.failure = spoolError(this.dir, e)
      this.discard()
      throw this.failure
    }
    this.handedOver = true
    return { id, file: this.file, size: this.written, entries: this.entries }
  }

  private closeFile(strict = false): void {
    if (!this.open) return
    this.open = false
    try {
      closeSync(this.fd)
    } catch (e) {
      if (strict) throw e
    }
  }

  private releaseBatch(): void {
    if (this.batch) this.batches.give(this.batch)
    this.batch = undefined
  }

  /**
   * Runs a step that adds to the pack; any failure ends the pack (see the class's comment).
   * Only the file's system calls fail as SpoolWriteErrors (writeOut, handOver).
   */
  private guarded<T>(step: () => T): T {
    if (this.failure) throw this.failure
    if (!this.open) throw new Error('a spooled pack was used after it was handed over')
    try {
      return step()
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e))
      this.discard()
      throw this.failure
    }
  }

  /** `n` bytes to seal into: the batch's free end (written out first if too short), or `large`. */
  private reserve(n: number): Buffer {
    const batch = this.batch!
    if (this.batched + n > batch.length) this.flush()
    return n <= batch.length ? batch.subarray(this.batched, this.batched + n) : this.large.take(n)
  }

  /** Counts bytes sealed by `reserve`'s buffer: in the batch, or written at once if not. */
  private append(sealed: Buffer): void {
    this.hash.update(sealed)
    if (sealed.buffer === this.batch!.buffer) this.batched += sealed.length
    else this.writeOut(sealed)
  }

  private flush(): void {
    if (this.batched === 0) return
    const n = this.batched
    this.batched = 0
    this.writeOut(this.batch!.subarray(0, n))
  }

  private writeOut(bytes: Uint8Array): void {
    let done = 0
    try {
      while (done < bytes.length)
        done += writeSync(this.fd, bytes, done, bytes.length - done, this.written + done)
    } catch (e) {
      throw spoolError(this.dir, e)
    }
    this.written += bytes.length
  }
}

/**
 * A spooled pack's file could not be made or written: `what` failed, `code` says why (the
 * main thread makes it a BackendError, as the same failure of a save would be).
 */
export class SpoolWriteError extends Error {
  override name = 'SpoolWriteError'
  constructor(
    readonly what: string,
    readonly code: string | undefined,
  ) {
    super(`${what}: ${code ?? 'I/O error'}`)
  }
}

function spoolError(dir: string, e: unknown): SpoolWriteError {
  return new SpoolWriteError(
    `Cannot write a pack file in ${dir}`,
    (e as NodeJS.ErrnoException).code,
  )
}
