import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  ChunkAssembler,
  GearChunker,
  parsePolynomial,
  type Polynomial,
} from '../../../src/repo/chunker/index.js'
import { mixedBytes, seededBytes } from '../../helpers/seeded-bytes.js'

const KiB = 1024
const MiB = 1024 * KiB
const polA = parsePolynomial('3da3358b4dc173')
const polB = parsePolynomial('2a0e4b4f6bbc4f')

/**
 * The chunker as its documentation states it, one byte at a time and without the fast
 * path's split loops: the gear table from SHA-256, digest = 2·digest + gear[byte] (32 bits),
 * the bytes after a cut skipped up to 32 before minSize, a cut where the top 20 bits are zero
 * from minSize on, or at maxSize. Returns the chunk lengths.
 */
function referenceChunks(data: Uint8Array, pol: Polynomial, minSize: number, maxSize: number) {
  const seed = Buffer.alloc(8)
  seed.writeBigUInt64LE(pol)
  const gear: number[] = []
  for (let v = 0; v < 256; v++)
    gear.push(
      createHash('sha256')
        .update('coffer gear')
        .update(seed)
        .update(Uint8Array.of(v))
        .digest()
        .readUInt32LE(0),
    )
  const lengths: number[] = []
  let start = 0
  let digest = 0
  for (let i = 0; i < data.length; i++) {
    const count = i + 1 - start
    if (count <= minSize - 32) continue
    digest = (digest * 2 + gear[data[i]!]!) % 2 ** 32
    if ((count >= minSize && digest < 2 ** 12) || count >= maxSize) {
      lengths.push(count)
      start = i + 1
      digest = 0
    }
  }
  if (start < data.length) lengths.push(data.length - start)
  return lengths
}

/** Chunk lengths through ChunkAssembler, the input fed in pieces of `piece` bytes. */
function assembled(data: Uint8Array, chunker: GearChunker, piece: number): number[] {
  const a = new ChunkAssembler(chunker)
  const lengths: number[] = []
  for (let i = 0; i < data.length; i += piece)
    for (const c of a.push(data.subarray(i, i + piece))) lengths.push(c.length)
  const last = a.end()
  if (last) lengths.push(last.length)
  return lengths
}

describe('GearChunker', () => {
  it('cuts where its documented definition does, however the input is split', () => {
    const data = mixedBytes('gear-defaults', 12 * MiB, 2 * MiB)
    const want = referenceChunks(data, polA, 512 * KiB, 8 * MiB)
    expect(want.length).toBeGreaterThan(4)
    expect(want.slice(0, -1).every((n) => n >= 512 * KiB && n <= 8 * MiB)).toBe(true)
    for (const piece of [data.length, 1 * MiB, 65_536, 4097])
      expect(assembled(data, new GearChunker(polA), piece)).toEqual(want)
  })

  it('holds to minSize and maxSize at their edges, fed a byte at a time or in odd pieces', () => {
    const opts = { minSize: 64, maxSize: 200 }
    // A 32-byte window after which the digest cuts, whatever came before it (the top 20
    // bits depend on the last 32 bytes only): found where the chunker cuts random bytes.
    const random = seededBytes('gear-window', 8 * MiB)
    const first = referenceChunks(random, polA, 32, 8 * MiB)[0]!
    expect(first).toBeLessThan(random.length)
    const window = random.subarray(first - 32, first)
    const data = Buffer.concat([
      seededBytes('a', 32),
      window, // ends at 64 = minSize: a cut
      seededBytes('b', 31),
      window, // ends at 63: too short, goes on
      seededBytes('c', 400), // cut at maxSize
      seededBytes('d', 10),
      window,
    ])
    const want = referenceChunks(data, polA, opts.minSize, opts.maxSize)
    expect(want[0]).toBe(64)
    expect(want).toContain(200)
    for (const piece of [1, 13, 100, 4096])
      expect(assembled(data, new GearChunker(polA, opts), piece)).toEqual(want)
  })

  it('cuts differently for another repository polynomial', () => {
    const data = mixedBytes('gear-pol', 6 * MiB, 1 * MiB)
    const a = referenceChunks(data, polA, 512 * KiB, 8 * MiB)
    const b = referenceChunks(data, polB, 512 * KiB, 8 * MiB)
    expect(assembled(data, new GearChunker(polB), 1 * MiB)).toEqual(b)
    expect(b).not.toEqual(a)
  })

  it('finds the same boundaries again after an insertion early in the stream', () => {
    const data = new Uint8Array(seededBytes('gear-shift', 16 * MiB))
    const shifted = new Uint8Array(data.length + 1000)
    shifted.set(data.subarray(0, 100))
    shifted.set(seededBytes('inserted', 1000), 100)
    shifted.set(data.subarray(100), 1100)
    const ends = (lengths: number[]): number[] => {
      let at = 0
      return lengths.map((n) => (at += n))
    }
    const before = ends(assembled(data, new GearChunker(polA), 1 * MiB))
    const after = ends(assembled(shifted, new GearChunker(polA), 1 * MiB)).map((e) => e - 1000)
    // All but the first cut or two fall where they fell before, shifted by the insertion.
    const common = after.filter((e) => before.includes(e))
    expect(common.length).toBeGreaterThanOrEqual(before.length - 2)
    expect(before.length).toBeGreaterThan(5)
  })

  it('refuses bounds it cannot keep', () => {
    expect(() => new GearChunker(polA, { minSize: 16 })).toThrow(/minSize/)
    expect(() => new GearChunker(polA, { minSize: 1024, maxSize: 512 })).toThrow(/maxSize/)
  })
})

describe('ChunkAssembler with a buffer allocator', () => {
  it('puts each chunk in a buffer from `alloc`, bytes equal to the input', () => {
    const data = mixedBytes('alloc', 5 * MiB, 1 * MiB)
    const given: ArrayBuffer[] = []
    const a = new ChunkAssembler(new GearChunker(polA), {
      alloc: (n) => {
        const b = new ArrayBuffer(n + 4096)
        given.push(b)
        return new Uint8Array(b, 0, n)
      },
    })
    const chunks: Uint8Array[] = []
    for (let i = 0; i < data.length; i += 300_000)
      chunks.push(...a.push(data.subarray(i, i + 300_000)))
    const last = a.end()
    if (last) chunks.push(last)
    expect(chunks.length).toBeGreaterThan(2)
    expect(chunks.map((c) => c.buffer)).toEqual(given)
    expect(Buffer.compare(Buffer.concat(chunks), data)).toBe(0)
  })
})
