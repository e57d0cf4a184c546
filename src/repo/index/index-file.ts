import { HEX64, JsonFields } from '../json-fields.js'
import type { BlobId, IndexId, PackId } from '../id.js'
import type { BlobLocation, PackEntry } from '../pack/index.js'

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

/** Parses an index file's JSON; throws when it does not match the format. */
export function parseIndexFile(json: Buffer): IndexFile {
  const f = new JsonFields(JSON.parse(json.toString('utf8')), 'the index')
  const packs = f.raw('packs')
  if (packs !== null && !Array.isArray(packs)) throw new Error('the index: packs is not an array')
  return {
    supersedes: (f.optStrings('supersedes', true, HEX64) ?? []) as IndexId[],
    packs: ((packs ?? []) as unknown[]).map((x, i) => {
      const p = new JsonFields(x, `the index: pack ${i}`)
      const blobs = p.raw('blobs')
      if (blobs !== null && !Array.isArray(blobs))
        throw new Error(`the index: pack ${i}: blobs is not an array`)
      const id = p.matching('id', HEX64, 'an ID') as PackId
      return { id, blobs: ((blobs ?? []) as unknown[]).map((b, j) => readBlob(b, id, i, j)) }
    }),
  }
}

/**
 * One blob of an index, checked field by field without an object per blob (an index lists
 * every blob of the repository: hundreds of thousands in a large one). The entry carries its
 * pack's ID, so that the master index keeps it as the blob's location without a copy.
 */
function readBlob(x: unknown, packId: PackId, pack: number, at: number): BlobLocation {
  const b = x as Record<string, unknown> | null
  if (typeof b !== 'object' || b === null || Array.isArray(b))
    throw badBlob(pack, at, 'not an object')
  const id = b.id
  const type = b.type
  const offset = b.offset
  const length = b.length
  const raw = b.uncompressed_length
  if (typeof id !== 'string' || !HEX64.test(id)) throw badBlob(pack, at, 'id is not an ID')
  if (type !== 'data' && type !== 'tree') throw badBlob(pack, at, 'type is not "data" or "tree"')
  if (!isUint(offset)) throw badBlob(pack, at, 'offset is not a non-negative integer')
  if (!isUint(length)) throw badBlob(pack, at, 'length is not a non-negative integer')
  if (raw !== undefined && !isUint(raw))
    throw badBlob(pack, at, 'uncompressed_length is not a non-negative integer')
  return raw
    ? { id: id as BlobId, type, packId, offset, length, uncompressedLength: raw }
    : { id: id as BlobId, type, packId, offset, length }
}

const badBlob = (pack: number, at: number, what: string): Error =>
  new Error(`the index: pack ${pack}: blob ${at}: ${what}`)

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0

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
