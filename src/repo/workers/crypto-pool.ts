import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { BlobDamage, SealedBlob } from '../blob-codec.js'
import type { Polynomial } from '../chunker/index.js'
import type { MasterKey } from '../crypto/index.js'
import type { BlobType, PackEntry } from '../pack/index.js'
import type {
  CryptoRequest,
  CryptoResponse,
  CryptoWorkerData,
  PackFromWorker,
  PackTarget,
  PackVerified,
  RangeSource,
  RangeWritten,
  SealedSlice,
  SealedTarget,
} from './crypto-messages.js'
import { workerEntry } from '../../lib/index.js'
import type { SpooledFile } from '../backend/backend.js'
import { fsError } from '../backend/fs-error.js'
import { discardSpooled, readSpooledFile } from '../backend/spooled-file.js'
import { chunkOnWorker, type HashedChunk, type WorkerChannel } from './worker-chunking.js'

interface Slot {
  readonly worker: Worker
  busy: number
}

interface Task {
  readonly slot: Slot
  /** Handles an answer; returns true when the task is finished. */
  readonly onAnswer: (r: CryptoResponse) => boolean
  readonly reject: (e: unknown) => void
}

/** The result of hashing a blob on a worker and, if it was new, sealing it there too. */
export interface HashedBlob {
  readonly id: string
  /** Present when the caller's `isNew` said the blob must be stored (and gave no pack). */
  readonly sealed?: SealedBlob
  /** Present when the blob was new and sealed into the caller's pack on the worker. */
  readonly packed?: PackedBlob
}

/** A blob sealed into a packer's pack on a worker. */
export interface PackedBlob {
  /** Its stored length, and its plaintext's when compressed. */
  readonly length: number
  readonly uncompressedLength?: number
  /** The pack this blob filled, finished: the caller saves it. */
  readonly full?: WorkerBuiltPack
  /** The blob's plaintext buffer, back from the worker (`giveBack`). */
  readonly spare?: ArrayBuffer
}

/** A pack a worker finished: in memory or spooled. */
export type WorkerBuiltPack = PackInMemory | SpooledPackFile

interface BuiltPack {
  readonly id: string
  readonly size: number
  readonly entries: readonly PackEntry[]
}

/** A pack built in memory: save `data`, then `release` it (its buffer goes back). */
export interface PackInMemory extends BuiltPack {
  readonly data: Buffer
  /** Gives the buffer back to its worker for a next pack; `data` must not be used after. */
  release(): void
}

/** A pack written into the backend's spool: adopt it into the repository (PackSpool). */
export interface SpooledPackFile extends BuiltPack {
  readonly file: SpooledFile
}

/**
 * Chunks streams and hashes, seals and opens blobs on worker threads, so that chunking,
 * hashing, compression, encryption and MAC use every core while the main thread reads and
 * writes. Tasks go to the
 * least busy worker; buffers are transferred (the caller must not reuse a buffer it passed
 * in). Workers are referenced only while they have work: an idle pool does not keep the
 * process alive, and a pending task does.
 */
export class CryptoPool {
  private readonly slots: Slot[] = []
  private readonly tasks = new Map<number, Task>()
  private nextTask = 1
  private nextPacker = 1
  private closed = false

  constructor(key: MasterKey, size = Math.max(1, availableParallelism())) {
    const url = workerEntry('crypto-worker', import.meta.url)
    const data: CryptoWorkerData = { key: key.toBytes() }
    for (let i = 0; i < size; i++) {
      const slot: Slot = { worker: new Worker(url, { workerData: data }), busy: 0 }
      slot.worker.on('message', (res: CryptoResponse) => {
        const t = this.tasks.get(res.task)
        if (!t) return
        if (res.kind === 'failed' && res.storage) {
          // A spooled pack could not be written: the repository's storage failed, whatever
          // the task was (a blob's seal, a small file's read and seal, a backup's end).
          t.reject(fsError({ code: res.storage.code }, res.storage.what))
          this.finish(res.task, t)
          return
        }
        let done: boolean
        try {
          done = t.onAnswer(res)
        } catch (e) {
          t.reject(e)
          done = true
        }
        if (done) this.finish(res.task, t)
      })
      slot.worker.on('error', (e) => this.failAll(e))
      slot.worker.unref()
      this.slots.push(slot)
    }
  }

  get size(): number {
    return this.slots.length
  }

  private finish(task: number, t: Task): void {
    this.tasks.delete(task)
    // Idle workers must not keep the process alive; busy ones must (see start).
    if (--t.slot.busy === 0) t.slot.worker.unref()
  }

  private failAll(e: unknown): void {
    for (const [task, t] of [...this.tasks]) {
      t.reject(e)
      this.finish(task, t)
    }
  }

  private start(
    build: (task: number) => CryptoRequest,
    transfer: ArrayBuffer[],
    onAnswer: (slot: Slot, task: number, r: CryptoResponse) => boolean,
    reject: (e: unknown) => void,
    on?: Slot,
  ): { readonly slot: Slot; readonly task: number } | undefined {
    if (this.closed) {
      reject(new Error('crypto pool is closed'))
      return undefined
    }
    let slot = on ?? this.slots[0]!
    if (!on) for (const s of this.slots) if (s.busy < slot.busy) slot = s
    if (slot.busy++ === 0) slot.worker.ref()
    const task = this.nextTask++
    this.tasks.set(task, { slot, onAnswer: (r) => onAnswer(slot, task, r), reject })
    slot.worker.postMessage(build(task), transfer)
    return { slot, task }
  }

  /**
   * Cuts a byte stream into restic's chunks with polynomial `pol` on a worker thread, which
   * hashes them too; yields each chunk's ID and bytes in stream order (see `chunkOnWorker`).
   * The source's buffers are copied, never taken over.
   */
  chunks(
    source: AsyncIterable<Uint8Array>,
    pol: Polynomial,
    signal?: AbortSignal,
  ): AsyncGenerator<HashedChunk> {
    return chunkOnWorker(
      source,
      pol,
      (first, onAnswer, reject) => this.channel(first, onAnswer, reject),
      signal,
    )
  }

  /** A task that stays open on one worker for several requests (see `WorkerChannel`). */
  private channel(
    first: (task: number) => CryptoRequest,
    onAnswer: (r: CryptoResponse) => boolean,
    reject: (e: unknown) => void,
  ): WorkerChannel {
    const opened = this.start(first, [], (_slot, _task, r) => onAnswer(r), reject)
    if (!opened) throw new Error('crypto pool is closed')
    const { slot, task } = opened
    return {
      task,
      post: (req, transfer = []) => {
        if (this.tasks.has(task)) slot.worker.postMessage(req, transfer)
      },
      close: () => {
        const t = this.tasks.get(task)
        if (!t) return
        slot.worker.postMessage({ kind: 'chunk-close', task } satisfies CryptoRequest)
        this.finish(task, t)
      },
      spare: (buffer) => {
        if (this.closed) return
        const req: CryptoRequest = { kind: 'chunk-spare', task: 0, buffer }
        slot.worker.postMessage(req, [buffer])
      },
    }
  }

  /** Compresses (when allowed and useful) and seals a blob's plaintext. Takes `data` over. */
  seal(type: BlobType, data: Uint8Array, compress: boolean): Promise<SealedBlob> {
    const owned = transferable(data)
    return new Promise((resolve, reject) => {
      this.start(
        (task) => ({ kind: 'seal', task, type, data: owned, compress }),
        [owned.buffer as ArrayBuffer],
        (_slot, _task, r) => {
          resolve(sealedOf(r))
          return true
        },
        reject,
      )
    })
  }

  /**
   * A new packer: the data blobs sealed `into` it (with a PackTarget naming it) go into packs
   * built on the workers, one open pack per worker (see WorkerPack).
   */
  newPacker(): number {
    return this.nextPacker++
  }

  /**
   * Seals a data blob whose ID is `id` into a packer's pack on a worker. Takes `data` over.
   * With `giveBack`, `data` is a view of an ArrayBuffer of the caller's alone: the whole
   * buffer moves to the worker without a copy and comes back as the answer's `spare`.
   */
  sealIntoPack(
    id: string,
    data: Uint8Array,
    compress: boolean,
    into: PackTarget,
    giveBack = false,
  ): Promise<PackedBlob> {
    const owned = giveBack ? data : transferable(data)
    return new Promise((resolve, reject) => {
      this.start(
        (task) => ({
          kind: 'seal',
          task,
          type: 'data',
          data: owned,
          compress,
          into: { ...into, id },
          ...(giveBack ? { giveBack } : {}),
        }),
        [owned.buffer as ArrayBuffer],
        (slot, _task, r) => {
          resolve(this.packedOf(slot, r))
          return true
        },
        reject,
      )
    })
  }

  /**
   * Ends a packer's open packs on every worker: returns the blobs of those that hold any, as
   * packs without a header (`id` empty, entries at their offsets in `data`).
   */
  async takePackedBlobs(packer: number): Promise<PackInMemory[]> {
    const answers = await Promise.allSettled(
      this.slots.map(
        (slot) =>
          new Promise<PackFromWorker | undefined>((resolve, reject) => {
            this.start(
              (task) => ({ kind: 'pack-finish', task, packer }),
              [],
              (_slot, _task, r) => {
                if (r.kind !== 'pack-finished')
                  throw new Error(r.kind === 'failed' ? r.message : 'unexpected worker answer')
                resolve(r.pack)
                return true
              },
              reject,
              slot,
            )
          }),
      ),
    )
    const failed = answers.find((a) => a.status === 'rejected')
    const built: PackInMemory[] = []
    for (const [i, a] of answers.entries()) {
      const p = a.status === 'fulfilled' ? a.value : undefined
      if (!p) continue
      if (!('file' in p)) built.push(this.packInMemory(this.slots[i]!, p))
      // A spooled pack's blobs are read back (from the page cache) and its file removed.
      else if (failed) await discardSpooled(p.file)
      else built.push({ ...p, data: await readSpooledFile(p.file, p.size), release() {} })
    }
    if (failed) throw failed.reason
    return built
  }

  /**
   * Forgets a packer's open packs (an abandoned backup): resolves once every worker has
   * removed them (a spooled pack's file) and will refuse its blobs still on the way.
   */
  async dropPacks(packer: number): Promise<void> {
    if (this.closed) return
    await Promise.allSettled(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve, reject) => {
            this.start(
              (task) => ({ kind: 'pack-drop', task, packer }),
              [],
              () => {
                resolve()
                return true
              },
              reject,
              slot,
            )
          }),
      ),
    )
  }

  private builtPack(slot: Slot, p: PackFromWorker): WorkerBuiltPack {
    if ('file' in p) return { id: p.id, size: p.size, entries: p.entries, file: p.file }
    return this.packInMemory(slot, p)
  }

  private packInMemory(slot: Slot, p: PackFromWorker & { buffer: ArrayBuffer }): PackInMemory {
    let released = false
    return {
      id: p.id,
      size: p.size,
      data: Buffer.from(p.buffer, 0, p.size),
      entries: p.entries,
      release: () => {
        if (released || this.closed) return
        released = true
        const req: CryptoRequest = { kind: 'pack-buffer', task: 0, buffer: p.buffer }
        slot.worker.postMessage(req, [p.buffer])
      },
    }
  }

  private packedOf(slot: Slot, r: CryptoResponse): PackedBlob {
    if (r.kind !== 'packed')
      throw new Error(r.kind === 'failed' ? r.message : 'unexpected worker answer')
    return {
      length: r.length,
      ...(r.uncompressedLength === undefined ? {} : { uncompressedLength: r.uncompressedLength }),
      ...(r.full ? { full: this.builtPack(slot, r.full) } : {}),
      ...(r.spare ? { spare: r.spare } : {}),
    }
  }

  /**
   * Hashes a blob on a worker; `isNew(id)` (called on this thread, synchronously, so it may
   * claim the ID) decides whether the worker then seals it or drops it. Takes `data` over.
   */
  hashAndSeal(
    type: BlobType,
    data: Uint8Array,
    compress: boolean,
    isNew: (id: string) => boolean,
    into?: PackTarget,
  ): Promise<HashedBlob> {
    const owned = transferable(data)
    return new Promise((resolve, reject) => {
      let id: string | undefined
      this.start(
        (task) => ({ kind: 'hash', task, type, data: owned, compress }),
        [owned.buffer as ArrayBuffer],
        (slot, task, r) => {
          if (r.kind === 'hashed') {
            id = r.id
            if (isNew(r.id)) {
              sealHeld(slot, task, into)
              return false
            }
            slot.worker.postMessage({ kind: 'drop', task } satisfies CryptoRequest)
            resolve({ id: r.id })
            return true
          }
          resolve(
            into ? { id: id!, packed: this.packedOf(slot, r) } : { id: id!, sealed: sealedOf(r) },
          )
          return true
        },
        reject,
      )
    })
  }

  /**
   * `hashAndSeal` for a small file (one chunk) that the worker reads itself: `path` is its
   * name, `size` what its stat said. `isNew(id, length)` decides as there. Resolves 'grew'
   * when the file holds more than `size` bytes (nothing was kept: stream it instead); rejects
   * with the read's error, its `code` kept (ENOENT, ELOOP, EACCES…).
   */
  readHashAndSeal(
    path: Buffer,
    size: number,
    compress: boolean,
    isNew: (id: string, length: number) => boolean,
    into?: PackTarget,
  ): Promise<(HashedBlob & { readonly length: number }) | 'grew'> {
    return new Promise((resolve, reject) => {
      let hashed: { id: string; length: number } | undefined
      this.start(
        (task) => ({ kind: 'read-hash', task, path: path.toString('latin1'), size, compress }),
        [],
        (slot, task, r) => {
          if (r.kind === 'grew') resolve('grew')
          else if (r.kind === 'unreadable') {
            const { message, code } = r.failure
            reject(Object.assign(new Error(message), code ? { code } : {}))
          } else if (r.kind === 'hashed') {
            hashed = { id: r.id, length: r.length ?? 0 }
            if (isNew(hashed.id, hashed.length)) {
              sealHeld(slot, task, into)
              return false
            }
            slot.worker.postMessage({ kind: 'drop', task } satisfies CryptoRequest)
            resolve(hashed)
          } else if (into) resolve({ ...hashed!, packed: this.packedOf(slot, r) })
          else resolve({ ...hashed!, sealed: sealedOf(r) })
          return true
        },
        reject,
      )
    })
  }

  /** Verifies, decrypts, decompresses and hash-checks a stored blob. Takes `sealed` over. */
  open(
    sealed: Uint8Array,
    id: string,
    uncompressedLength: number | undefined,
  ): Promise<Buffer | BlobDamage> {
    const owned = transferable(sealed)
    return new Promise((resolve, reject) => {
      this.start(
        (task) => ({ kind: 'open', task, sealed: owned, id, uncompressedLength }),
        [owned.buffer as ArrayBuffer],
        (_slot, _task, r) => {
          if (r.kind === 'opened')
            resolve(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength))
          else if (r.kind === 'damaged') resolve(r.damage)
          else throw new Error(r.kind === 'failed' ? r.message : 'unexpected worker answer')
          return true
        },
        reject,
      )
    })
  }

  /**
   * Opens the blobs `blobs` of `sealed`, stored bytes of a pack read in one piece, on one
   * worker: per blob its plaintext or its damage, in order. Takes `sealed` over.
   */
  openRange(
    sealed: Uint8Array,
    blobs: readonly SealedSlice[],
  ): Promise<readonly (Buffer | BlobDamage)[]> {
    const owned = transferable(sealed)
    return new Promise((resolve, reject) => {
      this.start(
        (task) => ({ kind: 'open-range', task, sealed: owned, blobs }),
        [owned.buffer as ArrayBuffer],
        (_slot, _task, r) => {
          if (r.kind !== 'opened-range')
            throw new Error(r.kind === 'failed' ? r.message : 'unexpected worker answer')
          resolve(
            r.results.map((d) =>
              typeof d === 'string' ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength),
            ),
          )
          return true
        },
        reject,
      )
    })
  }

  /**
   * Verifies a whole pack on a worker (a check's reading of it): the file's SHA-256, and per
   * blob its damage or null when it opens and matches its ID; or `unread` when the worker
   * could not read a local pack file. Takes transferred `source` bytes over.
   *
   * `reuse`: the caller owns the whole ArrayBuffer under `source.sealed` (no other view of it
   * is in use, whatever the view's bounds); it is transferred as it is and comes back as
   * `buffer` once verified, for the caller's next read.
   */
  verifyPack(
    source: RangeSource,
    blobs: readonly SealedSlice[],
    reuse = false,
  ): Promise<PackVerified & { readonly buffer?: ArrayBuffer }> {
    const giveBack = reuse && 'sealed' in source
    const owned: RangeSource =
      'sealed' in source && !giveBack ? { sealed: transferable(source.sealed) } : source
    return new Promise((resolve, reject) => {
      this.start(
        (task) => ({ kind: 'verify-pack', task, source: owned, blobs, giveBack }),
        'sealed' in owned ? [owned.sealed.buffer as ArrayBuffer] : [],
        (_slot, _task, r) => {
          if (r.kind !== 'verified-pack')
            throw new Error(r.kind === 'failed' ? r.message : 'unexpected worker answer')
          const { kind: _kind, task: _t, ...verified } = r
          resolve(verified)
          return true
        },
        reject,
      )
    })
  }

  /**
   * Opens the blobs of a range of a pack and writes each into the files its `targets` name,
   * on one worker (see RangeWriter): per blob null (written) or its damage; or why the range
   * could not be read, or which write failed. Takes transferred `source` bytes over.
   */
  writeRange(source: RangeSource, blobs: readonly SealedTarget[]): Promise<RangeWritten> {
    const owned: RangeSource = 'sealed' in source ? { sealed: transferable(source.sealed) } : source
    return new Promise((resolve, reject) => {
      this.start(
        (task) => ({ kind: 'write-range', task, source: owned, blobs }),
        'sealed' in owned ? [owned.sealed.buffer as ArrayBuffer] : [],
        (_slot, _task, r) => {
          if (r.kind !== 'wrote-range')
            throw new Error(r.kind === 'failed' ? r.message : 'unexpected worker answer')
          const { kind: _kind, task: _t, ...written } = r
          resolve(written)
          return true
        },
        reject,
      )
    })
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
    this.failAll(new Error('crypto pool closed'))
  }
}

/** Tells a worker to seal the data it holds for `task`: into a pack, or sent back sealed. */
function sealHeld(slot: Slot, task: number, into: PackTarget | undefined): void {
  const req: CryptoRequest = into ? { kind: 'seal-held', task, into } : { kind: 'seal-held', task }
  slot.worker.postMessage(req)
}

function sealedOf(r: CryptoResponse): SealedBlob {
  if (r.kind !== 'sealed')
    throw new Error(r.kind === 'failed' ? r.message : 'unexpected worker answer')
  return {
    sealed: Buffer.from(r.sealed.buffer, r.sealed.byteOffset, r.sealed.byteLength),
    ...(r.uncompressedLength === undefined ? {} : { uncompressedLength: r.uncompressedLength }),
  }
}

/**
 * A view that owns its whole ArrayBuffer, so it can be transferred: slices of a larger
 * buffer (Node's pooled small Buffers, subarrays) are copied once instead.
 */
function transferable(b: Uint8Array): Uint8Array {
  if (
    b.byteOffset === 0 &&
    b.byteLength === b.buffer.byteLength &&
    !(b.buffer instanceof SharedArrayBuffer)
  )
    return b
  return new Uint8Array(b)
}
