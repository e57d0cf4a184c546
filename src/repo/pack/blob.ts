import type { BlobId, PackId } from '../id.js'

export const BLOB_TYPES = ['data', 'tree'] as const
export type BlobType = (typeof BLOB_TYPES)[number]

/**
 * Where a blob is stored: its pack, the offset and length of its encrypted form in the pack,
 * and, for a compressed blob, the length of its plaintext (design.rst, "Indexing").
 */
export interface BlobLocation {
  readonly id: BlobId
  readonly type: BlobType
  readonly packId: PackId
  readonly offset: number
  readonly length: number
  /** Present only for compressed blobs (version 2). */
  readonly uncompressedLength?: number
}

/** The plaintext length of a stored blob. */
export function plaintextLength(b: Pick<BlobLocation, 'length' | 'uncompressedLength'>): number {
  return b.uncompressedLength ?? b.length - 32
}
