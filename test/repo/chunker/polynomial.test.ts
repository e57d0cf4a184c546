import { describe, expect, it } from 'vitest'
import {
  deg,
  formatPolynomial,
  irreducible,
  parsePolynomial,
  randomPolynomial,
} from '../../../src/repo/chunker/index.js'
import { chunkStream, RabinChunker } from '../../../src/repo/chunker/index.js'
import { seededBytes } from '../../helpers/seeded-bytes.js'

describe('polynomials over GF(2)', () => {
  // restic/chunker polynomials_test.go, polIrredTests.
  it.each([
    { pol: 0x38f1e565e288dfn, irreducible: false },
    { pol: 0x3da3358b4dc173n, irreducible: true },
    { pol: 0x30a8295b9d5c91n, irreducible: false },
    { pol: 0x255f4350b962cbn, irreducible: false },
    { pol: 0x267f776110a235n, irreducible: false },
    { pol: 0x2f4dae10d41227n, irreducible: false },
    { pol: 0x2482734cacca49n, irreducible: true },
    { pol: 0x312daf4b284899n, irreducible: false },
    { pol: 0x29dfb6553d01d1n, irreducible: false },
    { pol: 0x3548245eb26257n, irreducible: false },
    { pol: 0x3199e7ef4211b3n, irreducible: false },
    { pol: 0x362f39017dae8bn, irreducible: false },
    { pol: 0x200d57aa6fdacbn, irreducible: false },
    { pol: 0x35e0a4efa1d275n, irreducible: false },
    { pol: 0x2ced55b026577fn, irreducible: false },
    { pol: 0x260b012010893dn, irreducible: false },
    { pol: 0x2df29cbcd59e9dn, irreducible: false },
    { pol: 0x3f2ac7488bd429n, irreducible: false },
    { pol: 0x3e5cb1711669fbn, irreducible: false },
    { pol: 0x226d8de57a9959n, irreducible: false },
    { pol: 0x3c8de80aaf5835n, irreducible: false },
    { pol: 0x2026a59efb219bn, irreducible: false },
    { pol: 0x39dfa4d13fb231n, irreducible: false },
    { pol: 0x3143d0464b3299n, irreducible: false },
  ])('$pol irreducible: $irreducible', ({ pol, irreducible: expected }) => {
    expect(irreducible(pol)).toBe(expected)
  })

  it('draws irreducible polynomials of degree 53 and formats them as restic does', () => {
    const p = randomPolynomial()
    expect(deg(p)).toBe(53)
    expect(irreducible(p)).toBe(true)
    expect(parsePolynomial(formatPolynomial(p))).toBe(p)
    expect(formatPolynomial(p)).toMatch(/^[0-9a-f]{14}$/)
  })

  it('refuses polynomials the chunker cannot use', () => {
    expect(() => parsePolynomial('xyz')).toThrow()
    expect(() => parsePolynomial('ffffffffffffffff')).toThrow()
  })
})

describe('chunking', () => {
  const pol = 0x3da3358b4dc173n
  const data = seededBytes('chunker', 20 * 1024 * 1024)

  async function chunksOf(pieces: Uint8Array[]): Promise<number[]> {
    const sizes: number[] = []
    for await (const c of chunkStream(
      (async function* () {
        yield* pieces
      })(),
      pol,
    ))
      sizes.push(c.length)
    return sizes
  }

  it('cuts the same chunks whatever the sizes of the pieces fed in', async () => {
    const whole = await chunksOf([data])
    expect(whole.reduce((a, b) => a + b, 0)).toBe(data.length)
    expect(whole.length).toBeGreaterThan(5)
    for (const c of whole.slice(0, -1)) {
      expect(c).toBeGreaterThanOrEqual(512 * 1024)
      expect(c).toBeLessThanOrEqual(8 * 1024 * 1024)
    }
    const odd: Uint8Array[] = []
    for (let i = 0, step = 1; i < data.length; i += step, step = (step * 7 + 13) % 200_003)
      odd.push(data.subarray(i, i + step))
    expect(await chunksOf(odd)).toEqual(whole)
  })

  it('cuts at 8 MiB at the latest, and keeps small input whole', async () => {
    // The digest is the fingerprint of the last 64 bytes: constant for a run of one byte
    // value, never zero in its low 20 bits for 0x61, so only the maximum size cuts. (A run
    // of zero bytes has fingerprint zero and cuts at every 512 KiB, as in restic.)
    expect(await chunksOf([new Uint8Array(20 * 1024 * 1024).fill(0x61)])).toEqual([
      8 * 1024 * 1024,
      8 * 1024 * 1024,
      4 * 1024 * 1024,
    ])
    expect(await chunksOf([new Uint8Array(2 * 1024 * 1024)])).toEqual(Array(4).fill(512 * 1024))
    expect(await chunksOf([new Uint8Array(1000)])).toEqual([1000])
    expect(await chunksOf([])).toEqual([])
  })

  it('finds no cut before the minimum size', () => {
    const c = new RabinChunker(pol)
    expect(c.next(data.subarray(0, 512 * 1024 - 1))).toBe(-1)
  })
})
