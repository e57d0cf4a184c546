import { deg, MAX_DEGREE, MIN_DEGREE, type Polynomial } from './polynomial.js'

/** restic's chunk bounds (chunker.go, `MinSize`, `MaxSize`): 512 KiB to 8 MiB. */
export const MIN_SIZE = 512 * 1024
export const MAX_SIZE = 8 * 1024 * 1024
/** The rolling window (chunker.go, `windowSize`). */
const WINDOW = 64
/** Cut where the digest's low 20 bits are zero: about 1 MiB on average (chunker.go, `splitmask`). */
const SPLIT_MASK = (1 << 20) - 1
/** The degree the fast path is written for: restic only ever draws degree-53 polynomials. */
const FAST_DEGREE = 53

/** What `ChunkAssembler` cuts with: `RabinChunker` or `GearChunker`. */
export interface Chunker {
  readonly maxSize: number
  /** The index just past the next cut in `buf` from `offset`, or -1 (see `RabinChunker.next`). */
  next(buf: Uint8Array, offset: number): number
  /** Forgets the stream so far. */
  reset(): void
}

/** The chunk bounds of `opts` (restic's by default), checked against a chunker's window. */
export function chunkBounds(
  opts: ChunkerOptions,
  window: number,
): { readonly minSize: number; readonly maxSize: number } {
  const minSize = opts.minSize ?? MIN_SIZE
  const maxSize = opts.maxSize ?? MAX_SIZE
  if (!Number.isSafeInteger(minSize) || minSize < window) {
    throw new RangeError(`minSize must be an integer of at least ${window}, got ${minSize}`)
  }
  if (!Number.isSafeInteger(maxSize) || maxSize < minSize) {
    throw new RangeError(`maxSize must be an integer of at least minSize, got ${maxSize}`)
  }
  return { minSize, maxSize }
}

export interface ChunkerOptions {
  /** No cut before this many bytes (default 512 KiB, at least 64). */
  readonly minSize?: number
  /** A cut at this many bytes at the latest (default 8 MiB). */
  readonly maxSize?: number
}

/**
 * chunker.go's two tables, 64-bit values held as 32-bit halves (JavaScript's bitwise
 * operators are 32-bit), interleaved so one array serves the loop: for byte value v,
 * `[4v, 4v+1]` is mod[v] (high, low) and `[4v+2, 4v+3]` is the slide-out term for v.
 *
 * mod[v] = (v·x^k mod P) | v << k, with k = deg(P) (chunker.go, `fillTables`): XORed in
 * after a shift by 8, it reduces modulo P and clears the 8 bits that left the top.
 *
 * The slide-out term differs from chunker.go's `out` table on purpose. restic removes the
 * leaving byte before appending the new one: digest' = append(digest ^ out[o], b), out[o]
 * being o·x^(8·63) mod P. `append` is linear, so that equals append(digest, b) ^
 * append(out[o], 0), and append(out[o], 0) is o·x^(8·64) mod P. Storing that instead takes
 * the slide-out lookup off the digest's dependency chain; every digest stays the same.
 *
 * Both tables are linear in v, so entry v is the XOR of the entries of its bits. Built in
 * 32-bit halves, without bigint: a chunker is made per file, so this must take microseconds.
 */
function buildTables(pol: Polynomial): Int32Array {
  const k = deg(pol)
  if (k < MIN_DEGREE || k > MAX_DEGREE) {
    throw new RangeError(`the chunker needs a polynomial of degree ${MIN_DEGREE} to ${MAX_DEGREE}`)
  }
  const pHi = Number(pol >> 32n)
  const pLo = Number(BigInt.asIntN(32, pol))
  // r = r·x mod P on the halves of r (r < 2^k before, so the product fits in 54 bits).
  let hi = 0
  let lo = 1
  let power = 0
  const timesX = (): void => {
    hi = (hi << 1) | (lo >>> 31)
    lo <<= 1
    power++
    if ((k >= 32 ? hi >>> (k - 32) : lo >>> k) & 1) {
      hi ^= pHi
      lo ^= pLo
    }
  }
  const t = new Int32Array(4 * 256)
  for (let j = 0; j < 8; j++) {
    while (power < k + j) timesX()
    // x^(k+j) mod P, plus the bit k+j itself that it cancels.
    t[4 << j] = hi ^ (k + j >= 32 ? 1 << (k + j - 32) : 0)
    t[(4 << j) + 1] = lo ^ (k + j < 32 ? 1 << (k + j) : 0)
  }
  for (let j = 0; j < 8; j++) {
    while (power < 8 * WINDOW + j) timesX()
    t[(4 << j) + 2] = hi
    t[(4 << j) + 3] = lo
  }
  for (let v = 3; v < 256; v++) {
    const bit = v & -v
    if (bit === v) continue // a single bit: set above
    const a = 4 * bit
    const b = 4 * (v ^ bit)
    for (let h = 0; h < 4; h++) t[4 * v + h] = t[a + h]! ^ t[b + h]!
  }
  return t
}

/**
 * restic's Rabin fingerprint chunker (github.com/restic/chunker, `BaseChunker`), bit for
 * bit: a rolling fingerprint of the last 64 bytes, a cut after a byte where its low 20 bits
 * are zero, none before `minSize` and one at `maxSize` at the latest. After each cut restic
 * skips the next `minSize - 64` bytes unhashed, then restarts from a fresh digest, so only
 * about half of the bytes are hashed (FORMAT.md, "Trees and chunks").
 *
 * Incremental and synchronous: feed the bytes of one stream in order, in buffers of any
 * size; state carries over between calls. After a cut it is ready for the next chunk.
 * `next` allocates nothing, except a DataView the first time it sees a buffer. One instance
 * serves one stream at a time; make one per stream or worker thread (the tables are 4 KiB
 * and take well under a millisecond to build).
 *
 * @example
 * const chunker = new RabinChunker(parsePolynomial(config.chunkerPolynomial))
 * let start = 0
 * for (let cut = chunker.next(buf, 0); cut >= 0; cut = chunker.next(buf, cut)) {
 *   emit(buf.subarray(start, cut)) // plus whatever earlier buffers held of this chunk
 *   start = cut
 * }
 */
export class RabinChunker implements Chunker {
  readonly minSize: number
  readonly maxSize: number
  private readonly table: Int32Array
  /** chunker.go's `polShift`: the top byte of the digest is `digest >> polShift`. */
  private readonly polShift: number
  private readonly fast: boolean
  /** The last 64 bytes hashed; `window[wpos]` is the oldest, the next to slide out. */
  private readonly window = new Uint8Array(WINDOW)
  private wpos = 0
  /** The digest (< 2^53) as two 32-bit halves. */
  private hi = 0
  private lo = 0
  /** Bytes still to skip before hashing restarts (chunker.go, `pre`). */
  private pre = 0
  /** Bytes of the current chunk seen so far (chunker.go, `count`). */
  private count = 0
  /** The digest passed to and from `hashWords`. */
  private readonly state = new Int32Array(2)
  /** The last buffer `next` read by words, and its view. */
  private viewOf: Uint8Array | undefined
  private view: DataView | undefined

  constructor(pol: Polynomial, opts: ChunkerOptions = {}) {
    const { minSize, maxSize } = chunkBounds(opts, WINDOW)
    this.minSize = minSize
    this.maxSize = maxSize
    this.table = buildTables(pol)
    this.polShift = deg(pol) - 8
    this.fast = deg(pol) === FAST_DEGREE
    this.reset()
  }

  /** Forgets the stream so far: the next byte given to `next` starts a new chunk. */
  reset(): void {
    this.viewOf = undefined
    this.view = undefined
    this.restart()
  }

  /**
   * Starts a new chunk, as chunker.go's `reset`: a zero window with a 1 slid in (so the
   * digest is 1), and `minSize - 64` bytes to skip.
   */
  private restart(): void {
    this.window.fill(0)
    this.wpos = 0
    this.hi = 0
    this.lo = 0
    this.count = 0
    this.slideRing(1)
    this.pre = this.minSize - WINDOW
  }

  /**
   * Scans `buf` from `offset` (chunker.go, `NextSplitPoint`). Returns the index just past
   * the cut when the current chunk ends within `buf` (the chunker is then reset for the
   * next chunk, which starts there), or -1 when `buf` ends first.
   */
  next(buf: Uint8Array, offset = 0): number {
    let i = offset
    const end = buf.length
    if (i >= end) return -1
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
    // Every byte from here on is hashed; chunker.go cuts at `add >= maxSize` at the latest.
    const limit = Math.min(end, i + (this.maxSize - this.count))
    const cut = this.fast ? this.scanFast(buf, i, limit) : this.scanRing(buf, i, limit)
    if (cut >= 0 || this.count >= this.maxSize) {
      this.restart() // buf goes on: keep its view
      return cut >= 0 ? cut : limit
    }
    this.viewOf = undefined // done with buf: keep no reference to it
    this.view = undefined
    return -1
  }

  /**
   * Slides one byte through the window, for any degree: chunker.go's `slide` with the
   * slide-out term folded as described at `buildTables`.
   */
  private slideRing(b: number): void {
    const t = this.table
    const o = this.window[this.wpos]! << 2
    this.window[this.wpos] = b
    this.wpos = (this.wpos + 1) & (WINDOW - 1)
    const hi = this.hi
    const lo = this.lo
    const s = this.polShift
    // The digest's top byte, bits polShift..polShift+7 of the 64-bit value.
    const top = s >= 32 ? hi >>> (s - 32) : ((hi << (32 - s)) | (lo >>> s)) & 0xff
    const m = top << 2
    this.hi = ((hi << 8) | (lo >>> 24)) ^ t[m]! ^ t[o + 2]!
    this.lo = ((lo << 8) | b) ^ t[m + 1]! ^ t[o + 3]!
  }

  /** Hashes buf[i, limit) byte by byte through the window; returns the cut or -1. */
  private scanRing(buf: Uint8Array, i: number, limit: number): number {
    const minSize = this.minSize
    for (; i < limit; i++) {
      this.slideRing(buf[i]!)
      this.count++
      if ((this.lo & SPLIT_MASK) === 0 && this.count >= minSize) return i + 1
    }
    return -1
  }

  /**
   * The degree-53 path. The first 64 bytes of a call go through the window; after that the
   * byte sliding out is in `buf` itself, 64 bytes back, and the window is only refilled when
   * `buf` runs out. No minimum-size check is needed past the window: hashing restarts 64
   * bytes before `minSize`, so once a call has hashed 64 bytes every position may cut.
   */
  private scanFast(buf: Uint8Array, start: number, limit: number): number {
    const ringEnd = Math.min(limit, start + WINDOW)
    const cut = this.scanRing(buf, start, ringEnd)
    if (cut >= 0 || ringEnd === limit) return cut

    if (this.viewOf !== buf) {
      this.viewOf = buf
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    }
    const words = (limit - ringEnd) >>> 2
    this.state[0] = this.hi
    this.state[1] = this.lo
    const wordCut = hashWords(this.view!, this.table, this.state, ringEnd, words)
    if (wordCut >= 0) return wordCut
    const t = this.table
    let hi = this.state[0]
    let lo = this.state[1]
    for (let i = ringEnd + 4 * words; i < limit; i++) {
      const m = (hi >>> 13) << 2
      const o = buf[i - WINDOW]! << 2
      hi = ((hi << 8) | (lo >>> 24)) ^ t[m]! ^ t[o + 2]!
      lo = ((lo << 8) | buf[i]!) ^ t[m + 1]! ^ t[o + 3]!
      if ((lo & SPLIT_MASK) === 0) return i + 1
    }
    // No cut: keep the digest, the count and the last 64 bytes for the next buffer.
    this.hi = hi
    this.lo = lo
    this.count += limit - ringEnd
    const win = this.window
    for (let j = 0; j < WINDOW; j++) win[j] = buf[limit - WINDOW + j]!
    this.wpos = 0
    return -1
  }
}

/**
 * The hot loop, for degree 53: hashes `words` little-endian words of the view from byte `i`
 * (i >= 64), the digest in and out through `state` ([hi, lo]). Returns the index just past
 * the first cut, or -1. A function of its own, with nothing after the loop but the two
 * exits, so that V8 compiles it whole rather than only by on-stack replacement.
 */
function hashWords(
  view: DataView,
  t: Int32Array,
  state: Int32Array,
  i: number,
  words: number,
): number {
  let hi = state[0]!
  let lo = state[1]!
  let m: number
  let o: number
  // One step, four times: m = the digest's top byte (hi >>> 13), o = the byte sliding out,
  // both as table offsets, then
  //   hi = ((hi << 8) | (lo >>> 24)) ^ mod[top].hi ^ out[o].hi
  //   lo = ((lo << 8) | b)           ^ mod[top].lo ^ out[o].lo
  // and a cut when the low 20 bits of the digest are zero.
  for (const end = i + 4 * words; i < end; i += 4) {
    const w = view.getInt32(i, true)
    const v = view.getInt32(i - 64, true)
    m = (hi >>> 13) << 2
    o = (v & 0xff) << 2
    hi = ((hi << 8) | (lo >>> 24)) ^ t[m]! ^ t[o + 2]!
    lo = ((lo << 8) | (w & 0xff)) ^ t[m + 1]! ^ t[o + 3]!
    if ((lo & 0xfffff) === 0) return i + 1
    m = (hi >>> 13) << 2
    o = (v >>> 6) & 0x3fc
    hi = ((hi << 8) | (lo >>> 24)) ^ t[m]! ^ t[o + 2]!
    lo = ((lo << 8) | ((w >>> 8) & 0xff)) ^ t[m + 1]! ^ t[o + 3]!
    if ((lo & 0xfffff) === 0) return i + 2
    m = (hi >>> 13) << 2
    o = (v >>> 14) & 0x3fc
    hi = ((hi << 8) | (lo >>> 24)) ^ t[m]! ^ t[o + 2]!
    lo = ((lo << 8) | ((w >>> 16) & 0xff)) ^ t[m + 1]! ^ t[o + 3]!
    if ((lo & 0xfffff) === 0) return i + 3
    m = (hi >>> 13) << 2
    o = (v >>> 22) & 0x3fc
    hi = ((hi << 8) | (lo >>> 24)) ^ t[m]! ^ t[o + 2]!
    lo = ((lo << 8) | (w >>> 24)) ^ t[m + 1]! ^ t[o + 3]!
    if ((lo & 0xfffff) === 0) return i + 4
  }
  state[0] = hi
  state[1] = lo
  return -1
}

export interface AssemblerOptions extends ChunkerOptions {
  /**
   * Where a chunk of `length` bytes goes: a view of exactly that length, of an ArrayBuffer
   * that is the chunk's alone (it may be longer). By default a new ArrayBuffer of `length`;
   * a producer that gets its chunks' buffers back passes them here again, as first-touched
   * memory costs more than the copy into it.
   */
  readonly alloc?: (length: number) => Uint8Array
}

/**
 * Cuts a stream fed in buffers of any size into whole chunks (see `RabinChunker`), on one
 * thread and synchronously: `chunkStream` and the worker threads that chunk for the saver
 * share it. Each chunk has an ArrayBuffer of its own (`alloc`), so it can be transferred to
 * another thread; the buffers fed in are only read, and may be
 * reused once `push` returns. Memory: the part of the current chunk that came from earlier
 * buffers (< `maxSize`), copied.
 */
export class ChunkAssembler {
  private readonly chunker: Chunker
  private readonly alloc: (length: number) => Uint8Array
  // The current chunk's bytes from earlier buffers, copied: input may span many small
  // buffers, and a source may reuse its buffer. Grows up to maxSize, then is reused.
  private held = new Uint8Array(0)
  private heldLength = 0

  /** Cuts with restic's chunker for `pol`, or with the chunker given. */
  constructor(cutter: Polynomial | Chunker, opts: AssemblerOptions = {}) {
    this.chunker = typeof cutter === 'bigint' ? new RabinChunker(cutter, opts) : cutter
    this.alloc = opts.alloc ?? ((length) => new Uint8Array(length))
  }

  /** The chunks that end within `buf`, in order; the rest of `buf` is kept for the next. */
  push(buf: Uint8Array): Uint8Array[] {
    const chunks: Uint8Array[] = []
    let start = 0
    for (let cut = this.chunker.next(buf, 0); cut >= 0; cut = this.chunker.next(buf, cut)) {
      chunks.push(this.take(buf, start, cut))
      start = cut
    }
    const rest = buf.length - start
    if (rest === 0) return chunks
    if (this.heldLength + rest > this.held.length) {
      const grown = new Uint8Array(
        Math.min(
          this.chunker.maxSize,
          Math.max(this.heldLength + rest, 2 * this.held.length, 64 * 1024),
        ),
      )
      grown.set(this.held.subarray(0, this.heldLength))
      this.held = grown
    }
    this.held.set(buf.subarray(start), this.heldLength)
    this.heldLength += rest
    return chunks
  }

  /**
   * chunker.go's Next at the end of the input: whatever was fed since the last cut is the
   * last chunk (undefined when nothing was). The assembler is then ready for a new stream.
   */
  end(): Uint8Array | undefined {
    let last: Uint8Array | undefined
    if (this.heldLength > 0) {
      last = this.alloc(this.heldLength)
      last.set(this.held.subarray(0, this.heldLength))
    }
    this.heldLength = 0
    this.chunker.reset()
    return last
  }

  /** Drops a stream half-way: what was fed since the last cut is forgotten. */
  reset(): void {
    this.heldLength = 0
    this.chunker.reset()
  }

  private take(buf: Uint8Array, start: number, end: number): Uint8Array {
    const chunk = this.alloc(this.heldLength + end - start)
    if (this.heldLength > 0) chunk.set(this.held.subarray(0, this.heldLength))
    chunk.set(buf.subarray(start, end), this.heldLength)
    this.heldLength = 0
    return chunk
  }
}

export interface ChunkStreamOptions extends ChunkerOptions {
  readonly signal?: AbortSignal
}

/**
 * Splits a byte stream into restic's chunks (see `RabinChunker` and `ChunkAssembler`), on
 * the calling thread. The input buffers are only read, and may be reused by the source
 * once the next one is requested. An empty stream yields nothing; a stream shorter than
 * `minSize` yields one chunk. Stops with `signal.reason` when the signal aborts.
 *
 * @example
 * for await (const chunk of chunkStream(createReadStream(path), pol, { signal })) {
 *   await saver.save('data', hashId(chunk), chunk, signal)
 * }
 */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array>,
  pol: Polynomial,
  opts: ChunkStreamOptions = {},
): AsyncGenerator<Uint8Array> {
  const assembler = new ChunkAssembler(pol, opts)
  const signal = opts.signal
  for await (const buf of source) {
    signal?.throwIfAborted()
    for (const chunk of assembler.push(buf)) {
      yield chunk
      signal?.throwIfAborted()
    }
  }
  const last = assembler.end()
  if (last) yield last
}
