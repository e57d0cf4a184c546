import { randomBytes } from 'node:crypto'

/**
 * A polynomial over GF(2) as restic's chunker stores it (github.com/restic/chunker,
 * polynomials.go, `Pol`): bit i is the coefficient of x^i. Only `parsePolynomial` and
 * `randomPolynomial` make one, so a value of this type always has a degree the chunker can
 * use (8 to 53). The arithmetic below is on plain bigints: it runs when a repository is
 * created or a chunker is set up, never per byte.
 */
export type Polynomial = bigint & { readonly __brand: 'Polynomial' }

/** Degrees the chunker accepts: chunker.go needs `deg - 8 >= 0` and `deg <= 53`. */
export const MIN_DEGREE = 8
export const MAX_DEGREE = 53

/** The degree of x; -1 for the zero polynomial (polynomials.go, `Deg`). */
export function deg(x: bigint): number {
  if (x < 0n) throw new RangeError('a polynomial is a non-negative bit string')
  return x === 0n ? -1 : x.toString(2).length - 1
}

/**
 * x divided by d: quotient and remainder (polynomials.go, `DivMod`, schoolbook division).
 * Throws a RangeError when d is zero.
 */
export function divMod(x: bigint, d: bigint): { quotient: bigint; remainder: bigint } {
  if (x === 0n) return { quotient: 0n, remainder: 0n }
  if (d === 0n) throw new RangeError('division by zero')
  const dd = deg(d)
  let quotient = 0n
  for (let diff = deg(x) - dd; diff >= 0; diff = deg(x) - dd) {
    quotient |= 1n << BigInt(diff)
    x ^= d << BigInt(diff)
  }
  return { quotient, remainder: x }
}

/** The remainder of x / d (polynomials.go, `Mod`). */
export function mod(x: bigint, d: bigint): bigint {
  return divMod(x, d).remainder
}

/**
 * x·f mod g (polynomials.go, `MulMod`): shift-and-add, reducing as it goes, so nothing
 * grows past deg(g) + 1 bits.
 */
export function mulMod(x: bigint, f: bigint, g: bigint): bigint {
  if (x === 0n || f === 0n) return 0n
  const top = 1n << BigInt(deg(g))
  let a = mod(x, g)
  let res = 0n
  for (; f !== 0n; f >>= 1n) {
    if (f & 1n) res ^= a
    a <<= 1n
    if (a & top) a ^= g
  }
  return res
}

/** The greatest common divisor (polynomials.go, `GCD`, Euclid's algorithm). */
export function gcd(x: bigint, f: bigint): bigint {
  while (f !== 0n) {
    if (x === 0n) return f
    if (deg(x) < deg(f)) [x, f] = [f, x]
    ;[x, f] = [f, mod(x, f)]
  }
  return x
}

/** x^(2^p) - x mod g (polynomials.go, `qp`): p squarings of x, then add x. */
function qp(p: number, g: bigint): bigint {
  let res = 2n
  for (let i = 0; i < p; i++) res = mulMod(res, res, g)
  return mod(res ^ 2n, g)
}

/**
 * Whether x is irreducible over GF(2), by Ben-Or's test as restic's `Irreducible`:
 * gcd(x, x^(2^i) - x) = 1 for every i up to deg(x) / 2.
 */
export function irreducible(x: bigint): boolean {
  for (let i = 1; i <= deg(x) / 2; i++) if (gcd(x, qp(i, x)) !== 1n) return false
  return true
}

/** restic gives up after this many candidates (polynomials.go, `randPolMaxTries`). */
const MAX_TRIES = 1_000_000

/**
 * A random irreducible polynomial of degree 53, drawn as restic's `RandomPolynomial` /
 * `DerivePolynomial` do: 8 bytes little-endian, masked to 54 bits, with x^53 and 1 set,
 * until one passes the irreducibility test (about one in 53 does). `random` is for tests;
 * it defaults to node:crypto's CSPRNG.
 */
export function randomPolynomial(random: (size: number) => Uint8Array = randomBytes): Polynomial {
  for (let i = 0; i < MAX_TRIES; i++) {
    const bytes = random(8)
    if (bytes.length !== 8) throw new RangeError('the random source must return 8 bytes')
    let f = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true)
    f &= (1n << 54n) - 1n
    f |= (1n << 53n) | 1n
    if (irreducible(f)) return f as Polynomial
  }
  throw new Error('unable to find a random irreducible polynomial')
}

/** The config's form: lower-case hex without prefix (polynomials.go, `MarshalJSON`). */
export function formatPolynomial(p: Polynomial): string {
  return p.toString(16)
}

/**
 * Parses the config's hex form (polynomials.go, `UnmarshalJSON`: up to 64 bits of hex).
 * Throws a RangeError for anything that is not hex, or whose degree the chunker cannot
 * use (restic's chunker panics on those rather than refusing them up front).
 */
export function parsePolynomial(hex: string): Polynomial {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) {
    throw new RangeError(`chunker polynomial "${hex}" is not a hex number of at most 64 bits`)
  }
  const p = BigInt(`0x${hex}`)
  const d = deg(p)
  if (d < MIN_DEGREE || d > MAX_DEGREE) {
    throw new RangeError(
      `chunker polynomial ${hex} has degree ${d}; the chunker needs ${MIN_DEGREE} to ${MAX_DEGREE}`,
    )
  }
  return p as Polynomial
}
