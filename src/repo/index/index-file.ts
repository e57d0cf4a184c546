import { z } from 'zod'
import type { BlobId, IndexId, PackId } from '../id.js'
import type { PackEntry } from '../pack/index.js'

/**
 * An index file (design.rst, "Indexing"): the packs it describes with their blobs, and the
 * index files it supersedes (written by old restic versions when rewriting the index).
 */
export interface IndexFile {
  readonly supersedes: readonly IndexId[]
  readonly packs: readonly IndexedPack[]
}

export interface IndexedPack {
  readonly id: PackId
  readonly blobs: readonly PackEntry[]
}

const HEX64 = z.string().regex(/^[0-9a-f]{64}$/)
const INDEX_JSON = z.object({
  supersedes: z.array(HEX64).nullish(),
  packs: z
    .array(
      z.object({
        id: HEX64,
        blobs: z
          .array(
            z.object({
              id: HEX64,
              type: z.enum(['data', 'tree']),
              offset: z.number().int().nonnegative(),
              length: z.number().int().nonnegative(),
              uncompressed_length: z.number().int().nonnegative().optional(),
            }),
          )
          .nullable(),
      }),
    )
    .nullable(),
})

/** Parses an index file's JSON; throws when it does not match the format. */
export function parseIndexFile(json: Buffer): IndexFile {
  const j = INDEX_JSON.parse(JSON.parse(json.toString('utf8')))
  return {
    supersedes: (j.supersedes ?? []) as IndexId[],
    packs: (j.packs ?? []).map((p) => ({
      id: p.id as PackId,
      blobs: (p.blobs ?? []).map((b) => ({
        id: b.id as BlobId,
        type: b.type,
        offset: b.offset,
        length: b.length,
        ...(b.uncompressed_length ? { uncompressedLength: b.uncompressed_length } : {}),
      })),
    })),
  }
}

/** The JSON of an index file, in restic's field order (internal/repository/index/index.go). */
export function encodeIndexFile(packs: readonly IndexedPack[]): Buffer {
  // Hex IDs, fixed keys and integers only: JSON.stringify writes what Go's encoder writes.
  return Buffer.from(
    JSON.stringify({
      packs: packs.map((p) => ({
        id: p.id,
        blobs: p.blobs.map((b) => ({
          id: b.id,
          type: b.type,
          offset: b.offset,
          length: b.length,
          ...(b.uncompressedLength === undefined
            ? {}
            : { uncompressed_length: b.uncompressedLength }),
        })),
      })),
    }),
    'utf8',
  )
}

/** restic keeps index files under 8 MiB; about 50,000 blobs (≈ 160 bytes each as JSON). */
export const MAX_BLOBS_PER_INDEX_FILE = 50_000
