import { IntegrityError } from '../errors.js'
import { handleName, isNotFound, LocalBackend } from './backend/index.js'
import { openBlob } from './blob-codec.js'
import type { BlobId, PackId } from './id.js'
import type { MasterIndex } from './index/index.js'
import type { BlobLocation, BlobType } from './pack/index.js'
import { PackReadCoalescer } from './pack-read-coalescer.js'
import type { Repository } from './repository.js'
import { TreePackReads } from './tree-pack-reads.js'

/** Blobs below this size are opened on the calling thread (a worker round trip costs more). */
const INLINE_OPEN_BYTES = 16 * 1024

/**
 * Loads blobs by ID through the index: a ranged read of the pack, then verify, decrypt,
 * decompress and hash-check. From a remote backend, reads of neighbouring blobs of one pack
 * asked for at about the same time share one backend read (see PackReadCoalescer); each
 * blob is still checked on its own. When a blob is stored in several packs and one copy is
 * damaged or cannot be read, the next copy is tried; when all fail the error is the first
 * copy's.
 */
export class BlobLoader {
  /** Undefined for a local directory, read blob by blob (see the constructor). */
  private readonly reads: PackReadCoalescer | undefined
  /** Whether blobs come from a local directory, where a read costs little and waits less. */
  readonly local: boolean
  /** Trees are read a pack's trees at a time (a walk reads nearly all of them). */
  private readonly treePacks: TreePackReads

  constructor(
    readonly repo: Repository,
    readonly index: MasterIndex,
    opts: { readonly treeSpanBytes?: number } = {},
  ) {
    // A local directory answers a ranged read from the page cache in a fraction of a
    // millisecond, so merging reads there saves little, and it costs: a copy of each blob a
    // worker opens (a worker needs a buffer of its own, not a slice of a shared one) and
    // the wait for the whole range. Measured on the mounts data set (scale 0.2, 2,800 blob
    // reads, same process): reading every file took 1.40 s blob by blob, 1.66 s merged
    // (1.50 s through the coalescer without merging); `repo:restore` was 1–8 % slower.
    this.local = repo.backend instanceof LocalBackend
    this.reads = this.local ? undefined : new PackReadCoalescer(repo.backend)
    this.treePacks = new TreePackReads(repo.backend, index, opts.treeSpanBytes)
  }

  async load(type: BlobType, id: BlobId, signal?: AbortSignal): Promise<Buffer> {
    const locations = this.index.locations(type, id)
    if (locations.length === 0) {
      throw new IntegrityError('index', `${type} blob ${id.slice(0, 8)} is not in any pack`)
    }
    let firstError: unknown
    for (const loc of locations) {
      try {
        return await this.loadFrom(loc, signal)
      } catch (e) {
        if (signal?.aborted) throw signal.reason
        firstError ??= e
      }
    }
    throw firstError
  }

  /** Loads one copy of a blob; IntegrityError if that copy is damaged. */
  async loadFrom(loc: BlobLocation, signal?: AbortSignal): Promise<Buffer> {
    const h = { type: 'data' as const, name: loc.packId }
    let sealed: Buffer
    try {
      // From the coalescer, a view into a read shared with other blobs: opened (or copied to
      // a worker) right away, never kept, so the shared buffer goes once its blobs are open.
      const fromSpan = loc.type === 'tree' ? await this.treePacks.sealed(loc, signal) : undefined
      sealed =
        fromSpan ??
        (this.reads
          ? await this.reads.read(loc.packId, loc.offset, loc.length, signal)
          : await this.repo.backend.load(h, { offset: loc.offset, length: loc.length, signal }))
    } catch (e) {
      if (isNotFound(e))
        throw new IntegrityError(handleName(h), 'the pack is missing', { cause: e })
      throw e
    }
    const plain =
      sealed.length < INLINE_OPEN_BYTES
        ? openBlob(this.repo.key, sealed, loc.id, loc.uncompressedLength)
        : await this.repo.pool.open(sealed, loc.id, loc.uncompressedLength)
    if (typeof plain === 'string') {
      throw new IntegrityError(handleName(h), `${loc.type} blob ${loc.id.slice(0, 8)} ${plain}`)
    }
    return plain
  }

  /** The file of pack `packId`, when packs are files here that a worker can read itself. */
  packFile(packId: PackId): string | undefined {
    const backend = this.repo.backend
    return backend instanceof LocalBackend
      ? backend.filename({ type: 'data', name: packId })
      : undefined
  }

  /**
   * Opens the copies at `locs`, all in pack `packId`, from `bytes`, the pack's stored bytes
   * from `offset` (one read covering them all), in one worker round trip: per location its
   * plaintext, or the IntegrityError saying what is wrong with it. Takes `bytes` over.
   */
  async openRange(
    packId: PackId,
    offset: number,
    bytes: Buffer,
    locs: readonly BlobLocation[],
  ): Promise<(Buffer | IntegrityError)[]> {
    const results = await this.repo.pool.openRange(
      bytes,
      locs.map((l) => ({
        offset: l.offset - offset,
        length: l.length,
        id: l.id,
        uncompressedLength: l.uncompressedLength,
      })),
    )
    const h = { type: 'data' as const, name: packId }
    return results.map((r, i) =>
      typeof r === 'string'
        ? new IntegrityError(handleName(h), `${locs[i]!.type} blob ${locs[i]!.id.slice(0, 8)} ${r}`)
        : r,
    )
  }
}
