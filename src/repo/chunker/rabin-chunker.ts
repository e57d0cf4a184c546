import { deg, mod, type Polynomial } from './polynomial.js'

/** restic's chunk bounds (chunker.go): 512 KiB to 8 MiB, about 1 MiB on average. */
export const MIN_SIZE = 512 * 1024
export const MAX_SIZE = 8 * 1024 * 1024
const WINDOW = 64
/** Cut when the low 20 bits of the digest are zero: 1 MiB on average. */
const SPLIT_MASK = (1 << 20) - 1

interface Tables {
  readonly polShift: number
  /** tables.out and tables.mod as 32-bit halves (entries reach 61 bits). */
  readonly outHi: Uint32Array
  readonly outLo: Uint32Array
  readonly modHi: Uint32Array
  readonly modLo: Uint32Array
}

const cache = new Map<bigint, Tables>()

function tablesFor(pol: Polynomial): Tables {
  const cached = cache.get(pol)
  if (cached) return cached
  const k = deg(pol)
  if (k > 53) throw new Error('the polynomial must have a degree of at most 53')
  const outHi = new Uint32Array(256)
  const outLo = new Uint32Array(256)
  const modHi = new Uint32Array(256)
  const modLo = new Uint32Array(256)
  for (let b = 0; b < 256; b++) {
    // out[b]: the hash of b followed by 63 zero bytes, i.e. what b contributes while in the
    // window, so it can be removed when it slides out.
    let h = mod(BigInt(b), pol)
    for (let i = 0; i < WINDOW - 1; i++) h = mod(h << 8n, pol)
    outHi[b] = Number(h >> 32n)
    outLo[b] = Number(h & 0xffffffffn)
    const m = mod(BigInt(b) << BigInt(k), pol) | (BigInt(b) << BigInt(k))
    modHi[b] = Number(m >> 32n)
    modLo[b] = Number(m & 0xffffffffn)
  }
  const t = { polShift: k - 8, outHi, outLo, modHi, modLo }
  cache.set(pol, t)
  return t
}

/**
 * restic's Rabin fingerprint chunker (github.com/restic/chunker, BaseChunker), bit for bit:
 * a 64-byte rolling window over the data, a cut where the digest's low 20 bits are zero,
 * no cut before 512 KiB (those bytes are skipped, not hashed, after each cut, as restic
 * does) and a forced cut at 8 MiB. The 53-bit digest is kept as two 32-bit halves because
 * JavaScript's bitwise operators are 32-bit.
 *
 * Incremental: feed buffers to `next` in order; state carries over between calls.
 */
export class RabinChunker {
  private readonly t: Tables
  private readonly window = new Uint8Array(WINDOW)
  private wpos = 0
  private hi = 0
  private lo = 0
  private pre = 0
  private count = 0

  constructor(
    pol: Polynomial,
    readonly minSize = MIN_SIZE,
    readonly maxSize = MAX_SIZE,
  ) {
    this.t = tablesFor(pol)
    this.reset()
  }

  /** Starts a new chunk: clears the window and slides in a 1, as restic's reset does. */
  reset(): void {
    this.window.fill(0)
    this.hi = 0
    this.lo = 0
    this.wpos = 0
    this.count = 0
    this.slideOne(1)
    this.pre = this.minSize - WINDOW
  }

  private slideOne(b: number): void {
    const t = this.t
    const out = this.window[this.wpos]!
    this.window[this.wpos] = b
    let hi = this.hi ^ t.outHi[out]!
    let lo = this.lo ^ t.outLo[out]!
    this.wpos = (this.wpos + 1) % WINDOW
    const index = hi >>> (t.polShift - 32)
    hi = ((hi << 8) | (lo >>> 24)) >>> 0
    lo = ((lo << 8) | b) >>> 0
    this.hi = (hi ^ t.modHi[index]!) >>> 0
    this.lo = (lo ^ t.modLo[index]!) >>> 0
  }

  /**
   * Scans `buf` from `offset`. Returns the index just past a cut within `buf` (the chunk
   * ends there and the chunker is reset for the next one), or -1 when `buf` ends first.
   */
  next(buf: Uint8Array, offset = 0): number {
    let i = offset
    const end = buf.length
    if (this.pre > 0) {
      const avail = end - i
      if (this.pre >= avail) {
        this.pre -= avail
        this.count += avail
        return -1
      }
      i += this.pre
      this.count += this.pre
      this.pre = 0
    }
    const t = this.t
    const { outHi, outLo, modHi, modLo } = t
    const shift = t.polShift - 32
    const win = this.window
    const minSize = this.minSize
    const maxSize = this.maxSize
    let hi = this.hi
    let lo = this.lo
    let wpos = this.wpos
    let add = this.count
    for (; i < end; i++) {
      const b = buf[i]!
      const out = win[wpos]!
      win[wpos] = b
      wpos = (wpos + 1) & (WINDOW - 1)
      hi ^= outHi[out]!
      lo ^= outLo[out]!
      const index = hi >>> shift
      hi = (hi << 8) | (lo >>> 24)
      lo = (lo << 8) | b
      hi ^= modHi[index]!
      lo ^= modLo[index]!
      add++
      if (((lo & SPLIT_MASK) === 0 || add >= maxSize) && add >= minSize) {
        this.reset()
        return i + 1
      }
    }
    this.hi = hi >>> 0
    this.lo = lo >>> 0
    this.wpos = wpos
    this.count = add
    return -1
  }
}

/**
 * Splits a byte stream into restic-compatible chunks. Each chunk is a new Uint8Array that
 * owns its memory (transferable to a worker thread). Memory: one chunk under construction
 * (≤ 8 MiB) plus the input buffer being scanned.
 */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array>,
  pol: Polynomial,
  opts: {
    readonly signal?: AbortSignal
    readonly minSize?: number
    readonly maxSize?: number
  } = {},
): AsyncGenerator<Uint8Array> {
  const chunker = new RabinChunker(pol, opts.minSize ?? MIN_SIZE, opts.maxSize ?? MAX_SIZE)
  let parts: Uint8Array[] = []
  let size = 0
  const take = (): Uint8Array => {
    const chunk = new Uint8Array(size)
    let pos = 0
    for (const p of parts) {
      chunk.set(p, pos)
      pos += p.length
    }
    parts = []
    size = 0
    return chunk
  }
  for await (const buf of source) {
    opts.signal?.throwIfAborted()
    let start = 0
    while (start < buf.length) {
      const cut = chunker.next(buf, start)
      if (cut < 0) {
        parts.push(buf.subarray(start))
        size += buf.length - start
        break
      }
      parts.push(buf.subarray(start, cut))
      size += cut - start
      yield take()
      start = cut
    }
  }
  if (size > 0) yield take()
}
