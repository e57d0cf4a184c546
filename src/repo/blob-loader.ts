import { IntegrityError } from '../errors.js'
import { handleName, isNotFound } from './backend/index.js'
import { openBlob } from './blob-codec.js'
import type { BlobId } from './id.js'
import type { MasterIndex } from './index/index.js'
import type { BlobLocation, BlobType } from './pack/index.js'
import type { Repository } from './repository.js'

/** Blobs below this size are opened on the calling thread (a worker round trip costs more). */
const INLINE_OPEN_BYTES = 16 * 1024

/**
 * Loads blobs by ID through the index: one ranged read of the pack, then verify, decrypt,
 * decompress and hash-check. When a blob is stored in several packs and one copy is damaged,
 * the next copy is tried; when all are damaged the error names the first damaged pack file.
 */
export class BlobLoader {
  constructor(
    readonly repo: Repository,
    readonly index: MasterIndex,
  ) {}

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
      sealed = await this.repo.backend.load(h, { offset: loc.offset, length: loc.length, signal })
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
}
