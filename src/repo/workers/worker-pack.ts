import { createHash, type Hash } from 'node:crypto'
import { sealBlobInto, type SealedBlob } from '../blob-codec.js'
import { seal } from '../crypto/authenticated-encryption.js'
import type { MasterKey } from '../crypto/index.js'
import type { BlobId } from '../id.js'
// The header encoder alone: the pack index also brings the pack reader and the backends,
// which a crypto worker never uses (a quarter of its start-up).
import { encodePackHeader } from '../pack/pack-header.js'
import type { BlobType, PackEntry } from '../pack/index.js'
import type { PackFromWorker } from './crypto-messages.js'

/** A data pack open on a worker thread: in a buffer (WorkerPack) or a file (SpooledPack). */
export interface OpenPack {
  /** Bytes so far. */
  readonly size: number
  /** Whether the pack has reached its size and must be finished. */
  readonly full: boolean
  /** Compresses (when allowed and useful) and seals a blob into the pack. */
  add(
    key: MasterKey,
    id: string,
    plaintext: Uint8Array,
    compress: boolean,
  ): { readonly length: number; readonly uncompressedLength?: number }
  /** Appends the sealed header and its length; the pack goes to the main thread. */
  finish(key: MasterKey): PackFromWorker
  /** The blobs without a header (a backup's last, partial pack). */
  takeBlobs(): PackFromWorker
  /** Forgets the pack (an abandoned backup). */
  discard(): void
}

/**
 * A data pack built on a worker thread (design.rst, "Pack Format"): blobs are sealed
 * straight into one buffer, hashed as they are added, and the finished pack (header and its
 * length appended) leaves the thread as that one buffer. A backup's blobs thus never cross
 * threads one by one, and none of them needs a buffer of its own: the main thread only
 * saves finished packs (see CryptoPool's packers).
 */
export class WorkerPack implements OpenPack {
  private buf: Buffer
  private bytes = 0
  private readonly entries: PackEntry[] = []
  private readonly hash: Hash = createHash('sha256')

  /** `spare`: a buffer of an earlier pack, given back by the main thread for reuse. */
  constructor(
    private readonly type: BlobType,
    readonly packSize: number,
    spare: ArrayBuffer | undefined,
  ) {
    const want = initialCapacity(packSize)
    this.buf = spare && spare.byteLength >= want ? Buffer.from(spare) : Buffer.allocUnsafeSlow(want)
  }

  get size(): number {
    return this.bytes
  }

  /** Whether the pack has reached its size and must be finished. */
  get full(): boolean {
    return this.bytes >= this.packSize
  }

  /** Compresses (when allowed and useful) and seals a blob into the pack. */
  add(
    key: MasterKey,
    id: string,
    plaintext: Uint8Array,
    compress: boolean,
  ): { readonly length: number; readonly uncompressedLength?: number } {
    const offset = this.bytes
    const s = sealBlobInto(key, this.type, plaintext, compress, (n) => this.reserve(n))
    this.hash.update(s.sealed)
    this.bytes += s.sealed.length
    return addEntry(this.entries, this.type, id, offset, s)
  }

  /**
   * Appends the sealed header and its length and returns the pack; its bytes are the first
   * `size` of `buffer`, which the caller transfers.
   */
  finish(key: MasterKey): PackFromWorker {
    const header = seal(key, encodePackHeader(this.entries))
    const out = this.reserve(header.length + 4)
    header.copy(out, 0)
    out.writeUInt32LE(header.length, header.length)
    this.hash.update(out)
    this.bytes += out.length
    return {
      id: this.hash.digest('hex'),
      buffer: this.buf.buffer as ArrayBuffer,
      size: this.bytes,
      entries: this.entries,
    }
  }

  /**
   * The blobs as they are, without a header (a backup's last, partial pack: the main
   * thread puts the blobs of every worker's into one pack, as restic would have).
   */
  takeBlobs(): PackFromWorker {
    return {
      id: '',
      buffer: this.buf.buffer as ArrayBuffer,
      size: this.bytes,
      entries: this.entries,
    }
  }

  discard(): void {
    // Nothing but memory, which goes with the object.
  }

  /** `n` bytes after the pack's end, the buffer grown (copied) when they do not fit. */
  private reserve(n: number): Buffer {
    if (this.bytes + n > this.buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.ceil((this.bytes + n) * 1.25))
      this.buf.copy(bigger, 0, 0, this.bytes)
      this.buf = bigger
    }
    return this.buf.subarray(this.bytes, this.bytes + n)
  }
}

/**
 * A pack is finished once it reaches its size, so it holds that much plus its last blob
 * (usually a photo's few hundred KB; a chunk of up to 8 MiB grows the buffer once) and the
 * header.
 */
function initialCapacity(packSize: number): number {
  return packSize + Math.min(packSize, 1024 * 1024)
}

/**
 * Records a blob sealed at `offset` of a pack in its header's entries; returns its stored
 * length, and its plaintext's when compressed.
 */
export function addEntry(
  entries: PackEntry[],
  type: BlobType,
  id: string,
  offset: number,
  s: SealedBlob,
): { readonly length: number; readonly uncompressedLength?: number } {
  const length = s.sealed.length
  const u = s.uncompressedLength
  entries.push({
    id: id as BlobId,
    type,
    offset,
    length,
    ...(u === undefined ? {} : { uncompressedLength: u }),
  })
  return u === undefined ? { length } : { length, uncompressedLength: u }
}
