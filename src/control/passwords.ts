import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

/** scrypt cost (OWASP's minimum for scrypt: N=2^17 is stronger; 2^15 keeps sign-in fast). */
export interface PasswordCost {
  readonly N: number
  readonly r: number
  readonly p: number
}

export const DEFAULT_PASSWORD_COST: PasswordCost = { N: 1 << 15, r: 8, p: 1 }
/** Cheap cost for tests only. */
export const TEST_PASSWORD_COST: PasswordCost = { N: 1 << 10, r: 8, p: 1 }

const KEY_BYTES = 32

function derive(password: string, salt: Buffer, cost: PasswordCost): Promise<Buffer> {
  const opts: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_BYTES, opts, (e, key) => (e ? reject(e) : resolve(key))),
  )
}

/** Hashes a password: `scrypt$N$r$p$<salt b64>$<hash b64>`. */
export async function hashPassword(
  password: string,
  cost: PasswordCost = DEFAULT_PASSWORD_COST,
): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, cost)
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join(
    '$',
  )
}

/** Checks a password against a stored hash in constant time; false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$')
  if (alg !== 'scrypt' || !n || !r || !p || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const key = await derive(password, Buffer.from(salt, 'base64'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  })
  return key.length === expected.length && timingSafeEqual(key, expected)
}

/** A hash to verify against when the user does not exist, so timing does not tell. */
export const DUMMY_HASH =
  'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='
