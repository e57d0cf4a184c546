import { describe, expect, it } from 'vitest'
import {
  deg,
  divMod,
  formatPolynomial,
  gcd,
  irreducible,
  mod,
  mulMod,
  parsePolynomial,
  randomPolynomial,
} from '../../../src/repo/chunker/index.js'
import { seededBytes } from '../../helpers/seeded-bytes.js'

// The tables of github.com/restic/chunker polynomials_test.go, with its parseBin literals
// written as 0b… and uint64 constants as bigint.

describe('deg', () => {
  const cases = [
    { x: 0n, want: -1 },
    { x: 1n, want: 0 },
    ...Array.from({ length: 64 }, (_, i) => ({ x: 1n << BigInt(i), want: i })),
    { x: 0x3af4b284899n, want: 41 },
  ]
  it.each(cases)('deg($x) = $want', ({ x, want }) => {
    expect(deg(x)).toBe(want)
  })
})

describe('divMod', () => {
  // polDivTests
  const quotients = [
    { x: 10n, y: 50n, want: 0n },
    { x: 0n, y: 1n, want: 0n },
    { x: 0b101101000n, y: 0b1010n, want: 0b100100n },
    { x: 2n, y: 2n, want: 1n },
    { x: 0x8000000000000000n, y: 0x8000000000000000n, want: 1n },
    { x: 0b1100n, y: 0b100n, want: 0b11n },
    { x: 0b1100001111n, y: 0b10011n, want: 0b110101n },
  ]
  it.each(quotients)('$x / $y = $want', ({ x, y, want }) => {
    expect(divMod(x, y).quotient).toBe(want)
  })

  // polModTests
  const remainders = [
    { x: 10n, y: 50n, want: 10n },
    { x: 0n, y: 1n, want: 0n },
    { x: 0b101101001n, y: 0b1010n, want: 0b1n },
    { x: 2n, y: 2n, want: 0n },
    { x: 0x8000000000000000n, y: 0x8000000000000000n, want: 0n },
    { x: 0b1100n, y: 0b100n, want: 0n },
    { x: 0b1100001111n, y: 0b10011n, want: 0n },
  ]
  it.each(remainders)('$x mod $y = $want', ({ x, y, want }) => {
    expect(mod(x, y)).toBe(want)
  })

  it('refuses division by zero', () => {
    expect(() => mod(5n, 0n)).toThrow(RangeError)
  })
})

describe('gcd', () => {
  // polGCDTests, checked both ways round as the Go test does
  const cases = [
    { f1: 10n, f2: 50n, want: 2n },
    { f1: 0n, f2: 1n, want: 1n },
    { f1: 0b101101001n, f2: 0b1010n, want: 0b1n },
    { f1: 2n, f2: 2n, want: 2n },
    { f1: 0b1010n, f2: 0b11n, want: 0b11n },
    { f1: 0x8000000000000000n, f2: 0x8000000000000000n, want: 0x8000000000000000n },
    { f1: 0b1100n, f2: 0b101n, want: 0b11n },
    { f1: 0b1100001111n, f2: 0b10011n, want: 0b10011n },
    { f1: 0x3da3358b4dc173n, f2: 0x3da3358b4dc173n, want: 0x3da3358b4dc173n },
    { f1: 0x3da3358b4dc173n, f2: 0x230d2259defdn, want: 1n },
    { f1: 0x230d2259defdn, f2: 0x51b492b3eff2n, want: 0b10011n },
  ]
  it.each(cases)('gcd($f1, $f2) = $want', ({ f1, f2, want }) => {
    expect(gcd(f1, f2)).toBe(want)
    expect(gcd(f2, f1)).toBe(want)
  })
})

describe('mulMod', () => {
  // polMulModTests
  const cases = [
    { f1: 0x1230n, f2: 0x230n, g: 0x55n, want: 0x22n },
    {
      f1: 0x0eae8c07dbbb3026n,
      f2: 0xd5d6db9de04771den,
      g: 0xdd2bda3b77c9n,
      want: 0x425ae8595b7an,
    },
  ]
  it.each(cases)('$f1 * $f2 mod $g = $want', ({ f1, f2, g, want }) => {
    expect(mulMod(f1, f2, g)).toBe(want)
  })
})

describe('irreducible', () => {
  // polIrredTests
  const cases = [
    { f: 0x38f1e565e288dfn, want: false },
    { f: 0x3da3358b4dc173n, want: true },
    { f: 0x30a8295b9d5c91n, want: false },
    { f: 0x255f4350b962cbn, want: false },
    { f: 0x267f776110a235n, want: false },
    { f: 0x2f4dae10d41227n, want: false },
    { f: 0x2482734cacca49n, want: true },
    { f: 0x312daf4b284899n, want: false },
    { f: 0x29dfb6553d01d1n, want: false },
    { f: 0x3548245eb26257n, want: false },
    { f: 0x3199e7ef4211b3n, want: false },
    { f: 0x362f39017dae8bn, want: false },
    { f: 0x200d57aa6fdacbn, want: false },
    { f: 0x35e0a4efa1d275n, want: false },
    { f: 0x2ced55b026577fn, want: false },
    { f: 0x260b012010893dn, want: false },
    { f: 0x2df29cbcd59e9dn, want: false },
    { f: 0x3f2ac7488bd429n, want: false },
    { f: 0x3e5cb1711669fbn, want: false },
    { f: 0x226d8de57a9959n, want: false },
    { f: 0x3c8de80aaf5835n, want: false },
    { f: 0x2026a59efb219bn, want: false },
    { f: 0x39dfa4d13fb231n, want: false },
    { f: 0x3143d0464b3299n, want: false },
  ]
  it.each(cases)('$f: $want', ({ f, want }) => {
    expect(irreducible(f)).toBe(want)
  })
})

describe('randomPolynomial', () => {
  it.each([1, 2, 3, 4, 5])('draws an irreducible polynomial of degree 53 (draw %i)', () => {
    const p = randomPolynomial()
    expect(deg(p)).toBe(53)
    expect(irreducible(p)).toBe(true)
  })

  it('derives the polynomial from its random bytes as restic does', () => {
    // DerivePolynomial: uint64 little-endian, masked to 54 bits, x^53 and 1 set; the
    // reducible candidate 0x38f1e565e288df is skipped. High garbage bits are masked away.
    const candidates = [0xffc0_0000_0000_0000n | 0x38f1e565e288dfn, 0x3da3358b4dc172n]
    const random = (size: number): Uint8Array => {
      const b = Buffer.alloc(size)
      b.writeBigUInt64LE(candidates.shift()!)
      return b
    }
    expect(randomPolynomial(random)).toBe(0x3da3358b4dc173n)
    expect(candidates).toEqual([])
  })

  it('stays irreducible and of degree 53 across seeded draws', () => {
    let n = 0
    const random = (size: number): Uint8Array => seededBytes(`pol-${n++}`, size)
    for (let i = 0; i < 20; i++) {
      const p = randomPolynomial(random)
      expect(deg(p)).toBe(53)
      expect(irreducible(p)).toBe(true)
    }
  })
})

describe('config form', () => {
  it.each(['25b468838dcb75', '3da3358b4dc173', '2482734cacca49'])('round-trips %s', (hex) => {
    const p = parsePolynomial(hex)
    expect(p).toBe(BigInt(`0x${hex}`))
    expect(formatPolynomial(p)).toBe(hex)
  })

  it('formats as restic does: lower-case hex, no prefix', () => {
    expect(formatPolynomial(parsePolynomial('3DA3358B4DC173'))).toBe('3da3358b4dc173')
    expect(formatPolynomial(randomPolynomial())).toMatch(/^[0-9a-f]{14}$/)
  })

  const refused = [
    { hex: '', why: 'empty' },
    { hex: 'xyz', why: 'not hex' },
    { hex: '0x3da3358b4dc173', why: 'prefixed' },
    { hex: '1ffffffffffffffff', why: 'more than 64 bits' },
    { hex: 'ffffffffffffffff', why: 'degree 63' },
    { hex: '40000000000000', why: 'degree 54' },
    { hex: '0', why: 'zero' },
    { hex: 'ff', why: 'degree 7' },
  ]
  it.each(refused)('refuses $hex ($why)', ({ hex }) => {
    expect(() => parsePolynomial(hex)).toThrow(RangeError)
  })
})
