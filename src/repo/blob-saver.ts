import { silentLogger, type Logger } from '../lib/index.js'
import { sealBlob, type SealedBlob } from './blob-codec.js'
import { MIN_SIZE } from './chunker/index.js'
import { hashId, type BlobId, type IndexId, type PackId } from './id.js'
import {
  encodeIndexFile,
  MAX_BLOBS_PER_INDEX_FILE,
  type IndexedPack,
  type MasterIndex,
} from './index/index.js'
import { PackBuilder, type BlobType, type FinishedPack, type PackEntry } from './pack/index.js'
import type { Repository } from './repository.js'
import type {
  CryptoPool,
  PackedBlob,
  PackInMemory,
  SpooledPackFile,
} from './workers/crypto-pool.js'
import type { PackTarget } from './workers/crypto-messages.js'

/** Blobs below this size are sealed on the calling thread (a worker round trip costs more). */
const INLINE_SEAL_BYTES = 16 * 1024

/** restic's default pack size (internal/repository/repository.go, DefaultPackSize). */
export const DEFAULT_PACK_SIZE = 16 * 1024 * 1024

export interface BlobSaverOptions {
  readonly packSize?: number
  /** Packs being uploaded at once, beyond which saving waits (bounds memory). */
  readonly uploadsInFlight?: number
  readonly log?: Logger
  /** Nothing is written to the backend before this resolves (a lock's confirmation). */
  readonly writable?: Promise<void>
}

export interface SaveStats {
  dataBlobs: number
  treeBlobs: number
  /** Plaintext bytes of new blobs. */
  dataAdded: number
  /** Stored (compressed, encrypted) bytes of new blobs. */
  dataAddedPacked: number
  packs: number
}

/**
 * Saves blobs into new packs: skips blobs the repository already has (deduplication),
 * seals the others, fills one pack per blob type up to the pack size, uploads finished
 * packs in the background (bounded), and writes index files for uploaded packs. Follows
 * design.rst's write order: packs first, then the index that names them; the caller writes
 * the snapshot last, after `flush`.
 *
 * Concurrency: `save` may be called concurrently; the same blob saved twice at once is
 * stored once.
 */
export class BlobSaver {
  private readonly packSize: number
  private readonly maxUploads: number
  private readonly log: Logger
  private readonly open: Record<BlobType, PackBuilder | undefined> = {
    data: undefined,
    tree: undefined,
  }
  /** Blobs accepted in this session (in an open pack, uploading, or uploaded). */
  private readonly accepted: Record<BlobType, Set<BlobId>> = { data: new Set(), tree: new Set() }
  private readonly uploads = new Set<Promise<void>>()
  /** This saver's packer on the repository's worker pool, once data blobs went there. */
  private packer: { readonly pool: CryptoPool; readonly target: PackTarget } | undefined
  private readonly uploaded: IndexedPack[] = []
  private readonly packIds: PackId[] = []
  private readonly indexFiles: IndexId[] = []
  private failure: { error: unknown } | undefined
  readonly stats: SaveStats = {
    dataBlobs: 0,
    treeBlobs: 0,
    dataAdded: 0,
    dataAddedPacked: 0,
    packs: 0,
  }

  constructor(
    readonly repo: Repository,
    readonly index: MasterIndex,
    opts: BlobSaverOptions = {},
  ) {
    this.packSize = opts.packSize ?? DEFAULT_PACK_SIZE
    this.maxUploads = opts.uploadsInFlight ?? Math.max(2, repo.backend.connections)
    this.log = opts.log ?? silentLogger
    this.writable = opts.writable ?? Promise.resolve()
  }

  private readonly writable: Promise<void>

  /** Whether the repository or this session already holds the blob. */
  has(type: BlobType, id: BlobId): boolean {
    return this.accepted[type].has(id) || this.index.has(type, id)
  }

  /**
   * Claims a blob for saving: returns false when it is already stored or being stored, and
   * true when the caller must now call `add` with its sealed form.
   */
  claim(type: BlobType, id: BlobId): boolean {
    if (this.has(type, id)) return false
    this.accepted[type].add(id)
    return true
  }

  /**
   * Saves a plaintext blob unless already present; sealing runs on the worker pool (small
   * blobs inline, where a thread hop costs more than the work). Takes `plaintext` over: it
   * may be transferred to a worker thread.
   */
  async save(
    type: BlobType,
    id: BlobId,
    plaintext: Uint8Array,
    signal?: AbortSignal,
  ): Promise<boolean> {
    if (!this.claim(type, id)) return false
    await this.sealAndAdd(type, id, plaintext, signal)
    return true
  }

  /**
   * Seals and adds a blob the caller has claimed (`claim` returned true): on the worker
   * pool, or inline when small. Takes `plaintext` over. With `recycle`, `plaintext` is a view
   * of an ArrayBuffer of the caller's alone, which `recycle` gets back once the blob is sealed
   * (a data blob's buffer travels to the worker and back without a copy).
   */
  async sealAndAdd(
    type: BlobType,
    id: BlobId,
    plaintext: Uint8Array,
    signal?: AbortSignal,
    recycle?: (buffer: ArrayBuffer) => void,
  ): Promise<void> {
    const length = plaintext.length
    const compress = this.repo.version >= 2
    if (length < INLINE_SEAL_BYTES) {
      const sealed = sealBlob(this.repo.key, type, plaintext, compress)
      recycle?.(plaintext.buffer as ArrayBuffer)
      await this.add(type, id, sealed, length, signal)
    } else if (type === 'data') {
      const { pool, target } = this.packTarget()
      const packed = await pool.sealIntoPack(id, plaintext, compress, target, recycle !== undefined)
      if (packed.spare) recycle?.(packed.spare)
      await this.addPacked(packed, length, signal)
    } else {
      await this.add(type, id, await this.repo.pool.seal(type, plaintext, compress), length, signal)
    }
  }

  /**
   * Where this saver's data blobs sealed on workers go: packs built there (WorkerPack), one
   * open per worker, so that blobs do not come back to this thread one by one.
   */
  private packTarget(): { readonly pool: CryptoPool; readonly target: PackTarget } {
    const pool = this.repo.pool
    if (this.packer?.pool !== pool) {
      // A pool closed and started anew has none of the old one's packs: they are lost, and
      // the blobs in them were claimed: fail rather than index blobs never stored.
      if (this.packer) throw new Error('the worker pool was closed while a backup used it')
      const spool = this.repo.backend.spool
      this.packer = {
        pool,
        target: {
          packer: pool.newPacker(),
          packSize: this.packSize,
          ...(spool ? { spool: { dir: spool.dir, mode: spool.fileMode } } : {}),
        },
      }
    }
    return this.packer
  }

  /**
   * Saves a blob whose ID is not known yet: a worker thread hashes it, and seals it only if
   * the repository does not have it (the decision is made here, so deduplication is exact).
   * Small blobs are hashed and sealed inline. Takes `plaintext` over.
   */
  async saveUnhashed(
    type: BlobType,
    plaintext: Uint8Array,
    signal?: AbortSignal,
  ): Promise<{ readonly id: BlobId; readonly added: boolean }> {
    const length = plaintext.length
    if (length < INLINE_SEAL_BYTES) {
      const id = hashId<BlobId>(plaintext)
      return { id, added: await this.save(type, id, plaintext, signal) }
    }
    const packing = type === 'data' ? this.packTarget() : undefined
    const r = await this.repo.pool.hashAndSeal(
      type,
      plaintext,
      this.repo.version >= 2,
      (id) => this.claim(type, id as BlobId),
      packing?.target,
    )
    const id = r.id as BlobId
    if (r.packed) await this.addPacked(r.packed, length, signal)
    else if (r.sealed) await this.add(type, id, r.sealed, length, signal)
    else return { id, added: false }
    return { id, added: true }
  }

  /**
   * Saves a small file (below the chunker's minimum size, so one chunk) as one data blob,
   * read, hashed and sealed on a worker (`CryptoPool.readHashAndSeal`). Returns undefined
   * when `size` is not small or the file held more than `size` bytes (nothing saved: stream
   * it with `saveContent`); an empty file has no blob. Rejects with the read's error.
   */
  async saveSmallFile(
    path: Buffer,
    size: number,
    signal?: AbortSignal,
  ): Promise<
    { readonly id?: BlobId; readonly length: number; readonly added: boolean } | undefined
  > {
    signal?.throwIfAborted()
    // The chunker never cuts before MIN_SIZE: anything shorter is one chunk whatever its bytes.
    if (size >= MIN_SIZE) return undefined
    const { pool, target } = this.packTarget()
    const r = await pool.readHashAndSeal(
      path,
      size,
      this.repo.version >= 2,
      (id, length) => length > 0 && this.claim('data', id as BlobId),
      target,
    )
    if (r === 'grew') return undefined
    if (r.length === 0) return { length: 0, added: false }
    const id = r.id as BlobId
    if (!r.packed) return { id, length: r.length, added: false }
    await this.addPacked(r.packed, r.length, signal)
    return { id, length: r.length, added: true }
  }

  /** Adds a claimed blob in sealed form; waits while too many packs are uploading. */
  async add(
    type: BlobType,
    id: BlobId,
    blob: SealedBlob,
    plainLength: number,
    signal?: AbortSignal,
  ): Promise<void> {
    this.throwIfFailed()
    if (type === 'data') this.stats.dataBlobs++
    else this.stats.treeBlobs++
    this.stats.dataAdded += plainLength
    this.stats.dataAddedPacked += blob.sealed.length
    await this.addToPack(type, id, blob, signal)
  }

  /** Puts a sealed blob into this thread's open pack of its type; uploads it when full. */
  private async addToPack(
    type: BlobType,
    id: BlobId,
    blob: SealedBlob,
    signal?: AbortSignal,
  ): Promise<void> {
    this.throwIfFailed()
    let pack = this.open[type]
    if (!pack) pack = this.open[type] = new PackBuilder(type)
    pack.add(id, blob.sealed, blob.uncompressedLength)
    if (pack.size >= this.packSize) {
      this.open[type] = undefined
      this.startUpload(pack.finish(this.repo.key), signal)
      await this.waitForUploads()
    }
  }

  /**
   * Counts a claimed data blob a worker sealed into this saver's pack there; uploads that
   * pack when the blob filled it, and then waits while too many packs are uploading.
   */
  private async addPacked(
    blob: PackedBlob,
    plainLength: number,
    signal?: AbortSignal,
  ): Promise<void> {
    this.stats.dataBlobs++
    this.stats.dataAdded += plainLength
    this.stats.dataAddedPacked += blob.length
    const full = blob.full
    if (full) {
      if ('file' in full) this.startAdopt(full, signal)
      else this.startUpload(fromWorker(full), signal)
      await this.waitForUploads()
    }
    this.throwIfFailed()
  }

  private async waitForUploads(): Promise<void> {
    while (this.uploads.size >= this.maxUploads) {
      await Promise.race(this.uploads)
      this.throwIfFailed()
    }
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error
  }

  /** Saves a finished pack in the background; `release` runs once it is no longer needed. */
  private startUpload(pack: FinishedPack & { release?: () => void }, signal?: AbortSignal): void {
    this.inBackground(
      pack,
      () => this.repo.backend.save({ type: 'data', name: pack.id }, pack.parts, { signal }),
      () => pack.release?.(),
    )
  }

  /**
   * Makes a pack a worker wrote into the backend's spool a repository file, in the
   * background (it counts as an upload).
   */
  private startAdopt(pack: SpooledPackFile, signal?: AbortSignal): void {
    const spool = this.repo.backend.spool!
    this.inBackground(
      { id: pack.id as PackId, size: pack.size, entries: pack.entries },
      () => spool.adopt({ type: 'data', name: pack.id }, pack.file, { signal }),
      undefined,
      // Not adopted (the lock failed, or the adoption did, which removed it): remove it.
      () => spool.discard(pack.file),
    )
  }

  /**
   * Writes a pack once the repository is writable, counted among the uploads in flight:
   * records it once written, or the saver's failure (after `onFailure`); `done` runs either way.
   */
  private inBackground(
    pack: { readonly id: PackId; readonly size: number; readonly entries: readonly PackEntry[] },
    write: () => Promise<void>,
    done?: () => void,
    onFailure?: () => Promise<void>,
  ): void {
    const p = this.writable
      .then(write)
      .then(() => {
        this.stats.packs++
        this.uploaded.push({ id: pack.id, blobs: pack.entries })
        this.packIds.push(pack.id)
        this.log.debug(
          { pack: pack.id.slice(0, 8), size: pack.size, blobs: pack.entries.length },
          'pack saved',
        )
      })
      .catch(async (error: unknown) => {
        await onFailure?.()
        this.failure ??= { error }
      })
      .finally(() => {
        this.uploads.delete(p)
        done?.()
      })
    this.uploads.add(p)
  }

  /**
   * Finishes the open packs, waits for every upload, then writes the index files naming
   * them and adds them to the in-memory index. After it resolves, every saved blob is
   * durably stored and indexed.
   */
  async flush(signal?: AbortSignal): Promise<void> {
    if (this.packer) {
      // The workers' last packs are partial: their blobs go into this thread's data pack, so
      // that a backup ends with one partial data pack, not one per worker. Their stored
      // bytes are copied as they are (nothing is sealed again).
      for (const raw of await this.packer.pool.takePackedBlobs(this.packer.target.packer)) {
        for (const e of raw.entries) {
          const sealed = raw.data.subarray(e.offset, e.offset + e.length)
          await this.addToPack(
            'data',
            e.id,
            e.uncompressedLength === undefined
              ? { sealed }
              : { sealed, uncompressedLength: e.uncompressedLength },
            signal,
          )
        }
      }
    }
    for (const type of ['data', 'tree'] as const) {
      const pack = this.open[type]
      if (pack && pack.count > 0) {
        this.open[type] = undefined
        this.startUpload(pack.finish(this.repo.key), signal)
      }
    }
    await Promise.all(this.uploads)
    this.throwIfFailed()
    await this.writeIndex(signal)
  }

  private async writeIndex(signal?: AbortSignal): Promise<void> {
    let batch: IndexedPack[] = []
    let blobs = 0
    const writeBatch = async (): Promise<void> => {
      if (batch.length === 0) return
      await this.writable
      const id = await this.repo.store.saveUnpacked<IndexId>(
        'index',
        encodeIndexFile(batch),
        signal,
      )
      this.indexFiles.push(id)
      for (const p of batch) this.index.addPack(p.id, p.blobs, id)
      batch = []
      blobs = 0
    }
    for (const p of this.uploaded.splice(0)) {
      if (blobs + p.blobs.length > MAX_BLOBS_PER_INDEX_FILE) await writeBatch()
      batch.push(p)
      blobs += p.blobs.length
    }
    await writeBatch()
  }

  /** Index files written by this saver. */
  get writtenIndexFiles(): readonly IndexId[] {
    return this.indexFiles
  }

  /** Packs written by this saver (and indexed once flushed). */
  get writtenPacks(): readonly PackId[] {
    return this.packIds
  }

  /**
   * Abandons unsaved work: open packs are dropped, uploads awaited. Packs already uploaded
   * stay unreferenced until a prune removes them (they are harmless: no index names them).
   */
  async abort(): Promise<void> {
    if (this.packer) await this.packer.pool.dropPacks(this.packer.target.packer)
    this.open.data = undefined
    this.open.tree = undefined
    await Promise.allSettled(this.uploads)
  }
}

/** A pack a worker built, as this saver uploads it. */
function fromWorker(p: PackInMemory): FinishedPack & { release: () => void } {
  return {
    id: p.id as PackId,
    parts: [p.data],
    size: p.data.length,
    entries: p.entries,
    release: () => p.release(),
  }
}
