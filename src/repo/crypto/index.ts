/**
 * @module restic's cryptography: the master key, AES-256-CTR + Poly1305-AES authenticated
 * encryption of every stored file and blob, scrypt key files.
 */
export {
  IV_SIZE,
  MAC_SIZE,
  SEAL_OVERHEAD,
  computeMac,
  open,
  seal,
  sealInto,
} from './authenticated-encryption.js'
export { DEFAULT_KDF, TEST_KDF, deriveUserKey } from './kdf.js'
export type { KdfParams } from './kdf.js'
export { createKeyFile, openKeyFile, parseKeyFile } from './key-file.js'
export type { KeyFileInfo } from './key-file.js'
export { MasterKey } from './master-key.js'
export { UserKeyCache } from './user-key-cache.js'
