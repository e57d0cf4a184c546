import { randomBytes } from 'node:crypto'
import { scrypt64, type ScryptParams } from '../../lib/index.js'
import { MasterKey } from './master-key.js'

/** scrypt parameters as a key file stores them (N, r, p). */
export type KdfParams = ScryptParams

/**
 * Coffer's default for new keys: N = 2^15, r = 8, p = 1 (32 MiB, a few hundred ms here),
 * the order of what restic's calibration picks (it aims at 500 ms and 60 MiB).
 */
export const DEFAULT_KDF: KdfParams = { N: 1 << 15, r: 8, p: 1 }

/** Cheap parameters for tests only: never for a real repository. */
export const TEST_KDF: KdfParams = { N: 1 << 10, r: 8, p: 1 }

export function newSalt(): Buffer {
  return randomBytes(64)
}

/**
 * Derives the 64-byte user key from a password with scrypt, as restic's key files do (or
 * takes the derivation a command started early: lib's scrypt64).
 */
export async function deriveUserKey(
  password: string,
  salt: Uint8Array,
  params: KdfParams,
): Promise<MasterKey> {
  if (!Number.isInteger(params.N) || params.N < 2 || (params.N & (params.N - 1)) !== 0) {
    throw new RangeError(`scrypt N must be a power of two, got ${params.N}`)
  }
  return MasterKey.fromDerived(await scrypt64(password, salt, params))
}
