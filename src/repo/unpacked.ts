import { compress, decompressAny } from './compression.js'

/** The repository format versions Coffer reads; it writes version 2. */
export type RepoVersion = 1 | 2

/**
 * The plaintext of index, snapshot and lock files (design.rst, "Unpacked Data Format"):
 * JSON in version 1; in version 2 a header byte 2 followed by zstd-compressed JSON. The
 * config file is never compressed (it says which version the repository has).
 */
export function encodeUnpacked(json: Uint8Array, version: RepoVersion): Buffer {
  if (version === 1) return Buffer.from(json)
  const z = compress(json)
  const out = Buffer.allocUnsafe(1 + z.length)
  out[0] = 2
  z.copy(out, 1)
  return out
}

/**
 * Inverse of encodeUnpacked. A first byte `[` or `{` marks plain JSON, which version 2
 * repositories may also hold. Throws on an unknown encoding version.
 */
export function decodeUnpacked(plain: Buffer, version: RepoVersion): Buffer {
  if (version < 2 || plain.length === 0) return plain
  const first = plain[0]
  if (first === 0x5b || first === 0x7b) return plain
  if (first !== 2) throw new Error(`unsupported encoding version ${first}`)
  return decompressAny(plain.subarray(1))
}
