import { createHash, type Hash } from 'node:crypto'
import type { BlobId, PackId } from '../id.js'
import { seal, type MasterKey } from '../crypto/index.js'
import type { BlobType } from './blob.js'
import { encodePackHeader, type PackEntry } from './pack-header.js'

/** A finished pack: its ID (SHA-256 of the whole file), bytes and entries. */
export interface FinishedPack {
  readonly id: PackId
  readonly parts: readonly Buffer[]
  readonly size: number
  readonly entries: readonly PackEntry[]
}

/**
 * Collects sealed blobs of one type into a pack in memory (design.rst, "Pack Format": blobs
 * back to back, then the sealed header, then its length). Hashes as it goes, so finishing
 * does not read the data again. Version 2 forbids mixing data and tree blobs in a pack.
 */
export class PackBuilder {
  private readonly parts: Buffer[] = []
  private readonly entries: PackEntry[] = []
  private readonly hash: Hash = createHash('sha256')
  private bytes = 0

  constructor(readonly type: BlobType) {}

  get size(): number {
    return this.bytes
  }

  get count(): number {
    return this.entries.length
  }

  /** Adds an encrypted blob; `uncompressedLength` only when it is compressed. */
  add(id: BlobId, sealed: Buffer, uncompressedLength?: number): void {
    this.entries.push({
      id,
      type: this.type,
      offset: this.bytes,
      length: sealed.length,
      ...(uncompressedLength === undefined ? {} : { uncompressedLength }),
    })
    this.parts.push(sealed)
    this.hash.update(sealed)
    this.bytes += sealed.length
  }

  finish(key: MasterKey): FinishedPack {
    const header = seal(key, encodePackHeader(this.entries))
    const len = Buffer.allocUnsafe(4)
    len.writeUInt32LE(header.length, 0)
    this.hash.update(header)
    this.hash.update(len)
    const parts = [...this.parts, header, len]
    return {
      id: this.hash.digest('hex') as PackId,
      parts,
      size: this.bytes + header.length + 4,
      entries: this.entries,
    }
  }
}
