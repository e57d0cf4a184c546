import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  chunkStream,
  deg,
  mod,
  parsePolynomial,
  RabinChunker,
  type Polynomial,
} from '../../../src/repo/chunker/index.js'
import { mixedBytes, seededBytes } from '../../helpers/seeded-bytes.js'

const KiB = 1024
const MiB = 1024 * KiB
/** chunker_test.go's testPol. */
const testPol = parsePolynomial('3da3358b4dc173')

/**
 * chunker.go transcribed with bigint and none of the fast path's tricks (the `out` table
 * as restic builds it, a ring window, one byte at a time): the reference the chunker is
 * held to. Returns the chunk lengths.
 */
function referenceChunks(data: Uint8Array, pol: bigint, minSize: number, maxSize: number) {
  const k = BigInt(deg(pol))
  const polShift = k - 8n
  const appendByte = (h: bigint, b: number): bigint => mod((h << 8n) | BigInt(b), pol)
  const out: bigint[] = []
  const modT: bigint[] = []
  for (let b = 0; b < 256; b++) {
    let h = appendByte(0n, b)
    for (let i = 0; i < 63; i++) h = appendByte(h, 0)
    out.push(h)
    modT.push(mod(BigInt(b) << k, pol) | (BigInt(b) << k))
  }
  const lengths: number[] = []
  let window = new Uint8Array(64)
  let wpos = 0
  let digest = 0n
  let pre = 0
  let count = 0
  const slide = (b: number): void => {
    const o = window[wpos]!
    window[wpos] = b
    digest ^= out[o]!
    wpos = (wpos + 1) % 64
    const index = Number(digest >> polShift)
    digest = ((digest << 8n) | BigInt(b)) ^ modT[index]!
  }
  const reset = (): void => {
    window = new Uint8Array(64)
    wpos = 0
    digest = 0n
    count = 0
    slide(1)
    pre = minSize - 64
  }
  reset()
  let start = 0
  for (let i = 0; i < data.length; i++) {
    count++
    if (pre > 0) {
      pre--
      continue
    }
    slide(data[i]!)
    if (((digest & 0xfffffn) === 0n || count >= maxSize) && count >= minSize) {
      lengths.push(i + 1 - start)
      start = i + 1
      reset()
    }
  }
  if (start < data.length) lengths.push(data.length - start)
  return lengths
}

async function* pieces(data: Uint8Array, sizes: () => number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length;) {
    const n = sizes()
    yield data.subarray(i, i + n)
    i += n
  }
}

async function lengthsOf(source: AsyncIterable<Uint8Array>, pol: Polynomial, opts = {}) {
  const lengths: number[] = []
  for await (const c of chunkStream(source, pol, opts)) lengths.push(c.length)
  return lengths
}

/** Chunk lengths from the core alone, fed one byte at a time through a reused buffer. */
function lengthsByteByByte(data: Uint8Array, chunker: RabinChunker): number[] {
  const one = new Uint8Array(1)
  const lengths: number[] = []
  let start = 0
  for (let i = 0; i < data.length; i++) {
    one[0] = data[i]!
    if (chunker.next(one, 0) === 1) {
      lengths.push(i + 1 - start)
      start = i + 1
    }
  }
  if (start < data.length) lengths.push(data.length - start)
  return lengths
}

/** Polynomials of many degrees (irreducible or not: the chunker does not care). */
const polys = [53, 47, 41, 40, 39, 33, 32, 31, 24, 20, 9, 8].map((d) => {
  const bits = BigInt(`0x${seededBytes(`pol-${d}`, 8).toString('hex')}`)
  return parsePolynomial(((bits & ((1n << BigInt(d)) - 1n)) | (1n << BigInt(d)) | 1n).toString(16))
})

describe('RabinChunker against chunker.go transcribed', () => {
  it('cuts where restic does with its defaults', () => {
    const data = mixedBytes('defaults', 8 * MiB, 2 * MiB)
    const want = referenceChunks(data, testPol, 512 * KiB, 8 * MiB)
    expect(want.length).toBeGreaterThan(3)
    expect(lengthsByteByByte(data, new RabinChunker(testPol))).toEqual(want)
    const c = new RabinChunker(testPol)
    const got: number[] = []
    let start = 0
    for (let cut = c.next(data, 0); cut >= 0; cut = c.next(data, cut)) {
      got.push(cut - start)
      start = cut
    }
    if (start < data.length) got.push(data.length - start)
    expect(got).toEqual(want)
  })

  it.each(polys.map((pol) => ({ pol, degree: deg(pol) })))(
    'cuts where restic does with a polynomial of degree $degree',
    async ({ pol }) => {
      const data = mixedBytes(`deg-${deg(pol)}`, 192 * KiB, 8 * KiB)
      const opts = { minSize: 1 * KiB, maxSize: 6 * KiB }
      const want = referenceChunks(data, pol, opts.minSize, opts.maxSize)
      expect(new Set(want).size).toBeGreaterThan(5)
      expect(
        await lengthsOf(
          pieces(data, () => data.length),
          pol,
          opts,
        ),
      ).toEqual(want)
      expect(
        await lengthsOf(
          pieces(data, () => 7),
          pol,
          opts,
        ),
      ).toEqual(want)
      expect(
        await lengthsOf(
          pieces(data, () => 100),
          pol,
          opts,
        ),
      ).toEqual(want)
      expect(lengthsByteByByte(data, new RabinChunker(pol, opts))).toEqual(want)
    },
  )

  it('cuts at the digest right after minSize and forces the cut at maxSize', async () => {
    const opts = { minSize: 64, maxSize: 200 }
    const data = mixedBytes('edges', 64 * KiB, 1 * KiB)
    const want = referenceChunks(data, testPol, opts.minSize, opts.maxSize)
    expect(want).toContain(64)
    expect(want).toContain(200)
    expect(
      await lengthsOf(
        pieces(data, () => 13),
        testPol,
        opts,
      ),
    ).toEqual(want)
    const equal = { minSize: 300, maxSize: 300 }
    expect(
      await lengthsOf(
        pieces(data, () => 4096),
        testPol,
        equal,
      ),
    ).toEqual(referenceChunks(data, testPol, 300, 300))
  })
})

describe('RabinChunker', () => {
  it('splits zero bytes at every MinSize, as chunker_test.go chunks2', async () => {
    const data = new Uint8Array(4 * 512 * KiB)
    const chunks: string[] = []
    for await (const c of chunkStream(
      pieces(data, () => 100_000),
      testPol,
    ))
      chunks.push(createHash('sha256').update(c).digest('hex'))
    expect(chunks).toEqual(
      Array(4).fill('07854d2fef297a06ba81685e660c332de36d5d18d546927d30daad6d7fda1541'),
    )
  })

  it('finds no cut before minSize, and continues from an offset', () => {
    const data = new Uint8Array(2 * MiB)
    const c = new RabinChunker(testPol)
    expect(c.next(data.subarray(0, 512 * KiB - 1), 0)).toBe(-1)
    // The zero window cuts as soon as minSize is reached.
    expect(c.next(data, 512 * KiB - 1)).toBe(512 * KiB)
    expect(c.next(data, 512 * KiB)).toBe(MiB)
    expect(c.next(data, data.length)).toBe(-1)
  })

  it('starts over on reset', () => {
    const data = mixedBytes('reset', 4 * MiB, 256 * KiB)
    const a = new RabinChunker(testPol)
    const first = a.next(data, 0)
    const b = new RabinChunker(testPol)
    b.next(data.subarray(0, 700 * KiB), 0)
    b.reset()
    expect(b.next(data, 0)).toBe(first)
  })

  it('cuts the same whatever the alignment and type of the input buffers', async () => {
    const data = mixedBytes('alignment', 6 * MiB, 256 * KiB)
    const want = await lengthsOf(
      pieces(data, () => data.length),
      testPol,
    )
    expect(want.length).toBeGreaterThan(4)
    for (const shift of [1, 2, 3]) {
      const copy = Buffer.alloc(data.length + shift)
      copy.set(data, shift)
      const unaligned = copy.subarray(shift)
      expect(
        await lengthsOf(
          pieces(unaligned, () => 65_537),
          testPol,
        ),
      ).toEqual(want)
    }
  })

  it('validates its options', () => {
    expect(() => new RabinChunker(testPol, { minSize: 63 })).toThrow(RangeError)
    expect(() => new RabinChunker(testPol, { minSize: 1000, maxSize: 999 })).toThrow(RangeError)
    expect(() => new RabinChunker(testPol, { maxSize: 1.5 * MiB + 0.5 })).toThrow(RangeError)
    expect(() => new RabinChunker(7n as Polynomial)).toThrow(RangeError)
  })
})

describe('chunkStream', () => {
  const data = mixedBytes('stream', 12 * MiB, 512 * KiB)
  const sha = (c: Uint8Array): string => createHash('sha256').update(c).digest('hex')

  it('cuts the same chunks whatever the sizes of the pieces fed in', async () => {
    const whole: string[] = []
    for await (const c of chunkStream(
      pieces(data, () => data.length),
      testPol,
    ))
      whole.push(sha(c))
    expect(whole.length).toBeGreaterThan(6)
    const rnd = seededBytes('piece sizes', 1 << 16)
    let r = 0
    const feeds = [
      () => 1,
      () => 7,
      () => 64 * KiB,
      () => 1 + ((rnd[r++ % rnd.length]! << 8) | rnd[r++ % rnd.length]!) * 20,
    ]
    for (const sizes of feeds) {
      const got: string[] = []
      for await (const c of chunkStream(pieces(data, sizes), testPol)) got.push(sha(c))
      expect(got).toEqual(whole)
    }
  })

  it('yields chunks that own their memory, so they can be transferred', async () => {
    const source = pieces(data, () => 300 * KiB)
    let total = 0
    for await (const c of chunkStream(source, testPol)) {
      expect(c.byteOffset).toBe(0)
      expect(c.buffer.byteLength).toBe(c.length)
      expect(c).toBeInstanceOf(Uint8Array)
      expect(Buffer.isBuffer(c)).toBe(false)
      total += c.length
    }
    expect(total).toBe(data.length)
  })

  it('copies input before the source may reuse its buffer', async () => {
    async function* reusing(): AsyncGenerator<Uint8Array> {
      const buf = new Uint8Array(100_000)
      for (let i = 0; i < data.length; i += buf.length) {
        const n = Math.min(buf.length, data.length - i)
        buf.set(data.subarray(i, i + n))
        yield buf.subarray(0, n)
      }
    }
    const want: string[] = []
    for await (const c of chunkStream(
      pieces(data, () => data.length),
      testPol,
    ))
      want.push(sha(c))
    const got: string[] = []
    for await (const c of chunkStream(reusing(), testPol)) got.push(sha(c))
    expect(got).toEqual(want)
  })

  const small = [
    { what: 'empty input', size: 0, want: [] },
    { what: 'one byte', size: 1, want: [1] },
    { what: 'less than the window', size: 63, want: [63] },
    { what: 'less than MinSize', size: 100 * KiB, want: [100 * KiB] },
    { what: 'exactly MinSize', size: 512 * KiB, want: [512 * KiB] },
  ]
  it.each(small)('yields $want for $what', async ({ size, want }) => {
    const input = seededBytes(`small-${size}`, size)
    expect(
      await lengthsOf(
        pieces(input, () => 10_000),
        testPol,
      ),
    ).toEqual(want)
  })

  it('cuts a run of one byte value at 8 MiB when its fingerprint never matches', async () => {
    // The fingerprint of 64 equal bytes is constant: zero for 0x00 (a cut at every MinSize,
    // above), not zero in its low 20 bits for 0x61 with this polynomial.
    const run = new Uint8Array(20 * MiB).fill(0x61)
    expect(
      await lengthsOf(
        pieces(run, () => MiB),
        testPol,
      ),
    ).toEqual([8 * MiB, 8 * MiB, 4 * MiB])
  })

  it('stops with the reason when the signal aborts', async () => {
    const ac = new AbortController()
    const reason = new Error('stop')
    const chunks = chunkStream(
      pieces(data, () => MiB),
      testPol,
      { signal: ac.signal },
    )
    const first = await chunks.next()
    expect(first.done).toBe(false)
    ac.abort(reason)
    await expect(chunks.next()).rejects.toBe(reason)
  })
})
