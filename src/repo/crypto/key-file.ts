import { JsonFields } from '../json-fields.js'
import { goJsonMarshal } from '../go/index.js'
import { open, seal } from './authenticated-encryption.js'
import { deriveUserKey, newSalt, type KdfParams } from './kdf.js'
import { MasterKey } from './master-key.js'
import type { UserKeyCache } from './user-key-cache.js'

/**
 * A key file (design.rst, "Keys, Encryption and MAC"): plain JSON, not encrypted, holding
 * the scrypt parameters and salt, and in `data` the master key sealed with the key derived
 * from one password. A repository has one key file per password. Its name is the SHA-256
 * of its bytes.
 */
export interface KeyFileInfo {
  readonly created: string
  readonly username: string
  readonly hostname: string
  readonly kdf: string
  readonly N: number
  readonly r: number
  readonly p: number
}

/** Parses a key file's public part; throws when it is not a key file. */
export function parseKeyFile(bytes: Uint8Array): KeyFileInfo & { salt: Buffer; data: Buffer } {
  const f = new JsonFields(JSON.parse(Buffer.from(bytes).toString('utf8')), 'the key file')
  return {
    created: f.optString('created') ?? '',
    username: f.optString('username') ?? '',
    hostname: f.optString('hostname') ?? '',
    kdf: f.string('kdf'),
    N: f.int('N'),
    r: f.int('r'),
    p: f.int('p'),
    salt: Buffer.from(f.string('salt'), 'base64'),
    data: Buffer.from(f.string('data'), 'base64'),
  }
}

/**
 * Tries `password` on a key file. Returns the master key, or undefined when the password
 * does not open this key (the MAC does not match). Throws when the file does not parse or
 * names a KDF other than scrypt. `userKeys` keeps derivations for the next opens.
 */
export async function openKeyFile(
  bytes: Uint8Array,
  password: string,
  userKeys?: UserKeyCache,
): Promise<MasterKey | undefined> {
  const kf = parseKeyFile(bytes)
  if (kf.kdf !== 'scrypt') throw new Error(`unsupported KDF "${kf.kdf}"`)
  const user = await (userKeys
    ? userKeys.derive(password, kf.salt, kf)
    : deriveUserKey(password, kf.salt, kf))
  const plain = open(user, kf.data)
  if (!plain) return undefined
  return MasterKey.fromRepoJSON(JSON.parse(plain.toString('utf8')))
}

/** Seals `master` under `password` into the bytes of a new key file. */
export async function createKeyFile(
  master: MasterKey,
  password: string,
  params: KdfParams,
  meta: { readonly created: string; readonly username: string; readonly hostname: string },
): Promise<Buffer> {
  const salt = newSalt()
  const user = await deriveUserKey(password, salt, params)
  const data = seal(user, Buffer.from(master.toRepoJSON(), 'utf8'))
  // Field order of restic's Key struct (internal/repository/key.go).
  const json = goJsonMarshal({
    created: meta.created,
    username: meta.username,
    hostname: meta.hostname,
    kdf: 'scrypt',
    N: params.N,
    r: params.r,
    p: params.p,
    salt,
    data,
  })
  return Buffer.from(json, 'utf8')
}
