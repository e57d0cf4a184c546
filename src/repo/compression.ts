import zstdBinding from 'zstd-napi/binding.js'
import zstd from 'zstd-napi'
import type { Scratch } from '../lib/index.js'

// zstd-napi's modules are CommonJS: named imports are not statically detectable from ESM.
const { CCtx, DCtx, compressBound } = zstdBinding
type CCtx = InstanceType<typeof CCtx>
type DCtx = InstanceType<typeof DCtx>

/**
 * zstd, as repository version 2 uses it for blobs and unpacked files (design.rst, "Pack
 * Format", "Unpacked Data Format"). One context per thread, reused: creating a zstd context
 * costs more than compressing a small tree.
 */
let cctx: CCtx | undefined
let dctx: DCtx | undefined

/**
 * Coffer's level: zstd's fastest, 1 (restic's `--compression fastest`). Against level 3 (zstd's
 * default, close to restic's "auto"), on this project's data sets: the shop database's data
 * files compress at about twice the speed and came out smaller (81 MB of repository against
 * 88), a MySQL capture took 6.8 s where it took 7.4, and the mounts (mostly media that do
 * not compress) were stored in 1,293 MB against 1,292 in less time.
 */
export const COMPRESSION_LEVEL = 1

/**
 * Compresses `data`; returns undefined when that would not make it smaller. With `into`, the
 * result is a view of it, valid until its next use.
 */
export function compressIfSmaller(
  data: Uint8Array,
  level = COMPRESSION_LEVEL,
  into?: Scratch,
): Buffer | undefined {
  cctx ??= new CCtx()
  const bound = compressBound(data.length)
  const out = into ? into.take(bound) : Buffer.allocUnsafe(bound)
  const n = cctx.compress(out, data, level)
  return n < data.length ? out.subarray(0, n) : undefined
}

/** Compresses `data` unconditionally (unpacked files must be compressed in version 2). */
export function compress(data: Uint8Array, level = COMPRESSION_LEVEL, into?: Scratch): Buffer {
  cctx ??= new CCtx()
  const bound = compressBound(data.length)
  const out = into ? into.take(bound) : Buffer.allocUnsafe(bound)
  const n = cctx.compress(out, data, level)
  return out.subarray(0, n)
}

/**
 * Decompresses a blob whose plaintext length is known (from the pack header or the index).
 * Throws when the frame is damaged or does not hold exactly `length` bytes.
 */
export function decompressExact(data: Uint8Array, length: number, into?: Scratch): Buffer {
  dctx ??= new DCtx()
  const out = into ? into.take(length) : Buffer.allocUnsafe(length)
  const n = dctx.decompress(out, data)
  if (n !== length) throw new Error(`decompressed to ${n} bytes, expected ${length}`)
  return out
}

/** Decompresses a frame whose size is not known beforehand (unpacked files). */
export function decompressAny(data: Uint8Array): Buffer {
  return zstd.decompress(data)
}
