import { randomBytes } from 'node:crypto'

/**
 * Polynomials over GF(2) as restic's chunker uses them (github.com/restic/chunker,
 * polynomials.go): a uint64 whose bit i is the coefficient of x^i. Held as bigint; only
 * table setup and repository init use this arithmetic, never the per-byte loop.
 */
export type Polynomial = bigint & { readonly __polynomial?: never }

export function deg(x: bigint): number {
  return x === 0n ? -1 : x.toString(2).length - 1
}

export function mod(x: bigint, d: bigint): bigint {
  if (d === 0n) throw new RangeError('division by zero')
  const D = deg(d)
  let diff = deg(x) - D
  while (x !== 0n && diff >= 0) {
    x ^= d << BigInt(diff)
    diff = deg(x) - D
  }
  return x
}

/** (x * f) mod g, by shift-and-add with reduction at each step. */
export function mulMod(x: bigint, f: bigint, g: bigint): bigint {
  const dg = deg(g)
  const top = 1n << BigInt(dg)
  let a = mod(x, g)
  let res = 0n
  for (let i = 0, n = deg(f); i <= n; i++) {
    if ((f >> BigInt(i)) & 1n) res ^= a
    a <<= 1n
    if (a & top) a ^= g
  }
  return res
}

export function gcd(x: bigint, f: bigint): bigint {
  while (f !== 0n) {
    if (deg(x) < deg(f)) [x, f] = [f, x]
    ;[x, f] = [f, mod(x, f)]
  }
  return x
}

/** x^(2^p) - x mod g (restic's qp): used by the irreducibility test. */
function qp(p: number, g: bigint): bigint {
  let res = 2n
  for (let i = 0; i < p; i++) res = mulMod(res, res, g)
  return mod(res ^ 2n, g)
}

/** Ben-Or's test, as restic's Irreducible: gcd(x, x^(2^i) - x) = 1 for i ≤ deg/2. */
export function irreducible(x: bigint): boolean {
  for (let i = 1; i <= deg(x) / 2; i++) if (gcd(x, qp(i, x)) !== 1n) return false
  return true
}

/** A random irreducible polynomial of degree 53 (restic's DerivePolynomial). */
export function randomPolynomial(): Polynomial {
  for (let i = 0; i < 1_000_000; i++) {
    let f = randomBytes(8).readBigUInt64LE(0)
    f &= (1n << 54n) - 1n
    f |= (1n << 53n) | 1n
    if (irreducible(f)) return f
  }
  throw new Error('unable to find a random irreducible polynomial')
}

/** The config's form: lower-case hex without prefix (restic's Pol.MarshalJSON). */
export function formatPolynomial(p: Polynomial): string {
  return p.toString(16)
}

export function parsePolynomial(hex: string): Polynomial {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw new Error(`invalid chunker polynomial "${hex}"`)
  const p = BigInt(`0x${hex}`)
  if (deg(p) > 53 || deg(p) < 9)
    throw new Error(`chunker polynomial ${hex} has degree ${deg(p)}; restic needs 9..53`)
  return p
}
