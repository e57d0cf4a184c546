import { idFromBytes, idToBytes, type BlobId } from '../id.js'
import type { BlobType } from './blob.js'

/**
 * A pack's header (design.rst, "Pack Format"): per blob a type byte, the encrypted length,
 * for compressed types the plaintext length, then the 32-byte plaintext hash. Lengths are
 * little-endian uint32. The header is sealed and followed by its sealed length (uint32 LE).
 */
export interface PackEntry {
  readonly id: BlobId
  readonly type: BlobType
  readonly offset: number
  readonly length: number
  readonly uncompressedLength?: number
}

const PLAIN_ENTRY = 1 + 4 + 32
const COMPRESSED_ENTRY = 1 + 4 + 4 + 32

/** Serializes the entries in pack order. */
export function encodePackHeader(entries: readonly PackEntry[]): Buffer {
  let size = 0
  for (const e of entries)
    size += e.uncompressedLength === undefined ? PLAIN_ENTRY : COMPRESSED_ENTRY
  const buf = Buffer.allocUnsafe(size)
  let pos = 0
  for (const e of entries) {
    const compressed = e.uncompressedLength !== undefined
    buf[pos] = (compressed ? 2 : 0) | (e.type === 'tree' ? 1 : 0)
    buf.writeUInt32LE(e.length, pos + 1)
    pos += 5
    if (compressed) {
      buf.writeUInt32LE(e.uncompressedLength, pos)
      pos += 4
    }
    idToBytes(e.id).copy(buf, pos)
    pos += 32
  }
  return buf
}

/**
 * Parses a decrypted header into entries with their offsets (blobs are stored back to back
 * from offset 0 in header order). Throws a plain Error describing what is wrong.
 */
export function decodePackHeader(header: Buffer, allowCompressed: boolean): PackEntry[] {
  const entries: PackEntry[] = []
  let pos = 0
  let offset = 0
  while (pos < header.length) {
    const t = header[pos]!
    if (t > 3) throw new Error(`unknown blob type ${t} in pack header`)
    const compressed = (t & 2) !== 0
    if (compressed && !allowCompressed) throw new Error('compressed blob in a version 1 repository')
    const need = compressed ? COMPRESSED_ENTRY : PLAIN_ENTRY
    if (pos + need > header.length) throw new Error('truncated pack header')
    const length = header.readUInt32LE(pos + 1)
    let p = pos + 5
    let uncompressedLength: number | undefined
    if (compressed) {
      uncompressedLength = header.readUInt32LE(p)
      p += 4
    }
    const id = idFromBytes<BlobId>(header.subarray(p, p + 32))
    entries.push({
      id,
      type: t & 1 ? 'tree' : 'data',
      offset,
      length,
      ...(uncompressedLength === undefined ? {} : { uncompressedLength }),
    })
    offset += length
    pos += need
  }
  return entries
}
