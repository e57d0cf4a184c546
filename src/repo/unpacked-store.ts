import { createHash } from 'node:crypto'
import { IntegrityError } from '../errors.js'
import { handleName, type Backend, type FileType, type Handle } from './backend/index.js'
import { open, seal, type MasterKey } from './crypto/index.js'
import type { AnyId } from './id.js'
import { decodeUnpacked, encodeUnpacked, type RepoVersion } from './unpacked.js'

/**
 * Reads and writes the encrypted single files of a repository (config, index, snapshots,
 * locks): each is IV || CIPHERTEXT || MAC over the unpacked encoding, stored under the
 * SHA-256 of its bytes. Every read checks the name against the content before decrypting,
 * so a flipped bit is reported as damage to that file, never returned as data.
 */
export class UnpackedStore {
  constructor(
    readonly backend: Backend,
    readonly key: MasterKey,
    readonly version: RepoVersion,
  ) {}

  async loadUnpacked(
    type: Exclude<FileType, 'data' | 'keys'>,
    id: string,
    signal?: AbortSignal,
  ): Promise<Buffer> {
    const h: Handle = { type, name: id }
    const raw = await this.backend.load(h, { signal })
    return this.openUnpacked(h, raw)
  }

  /** Verifies and decrypts bytes already read from `h`. */
  openUnpacked(h: Handle, raw: Buffer): Buffer {
    const file = handleName(h)
    if (h.type !== 'config' && createHash('sha256').update(raw).digest('hex') !== h.name) {
      throw new IntegrityError(file, 'its content does not match its name (SHA-256)')
    }
    const plain = open(this.key, raw)
    if (!plain) throw new IntegrityError(file, 'it fails authentication (MAC)')
    if (h.type === 'config') return plain
    try {
      return decodeUnpacked(plain, this.version)
    } catch (e) {
      throw new IntegrityError(file, (e as Error).message, { cause: e })
    }
  }

  /** Encodes, seals and stores `json`; returns the new file's ID. */
  async saveUnpacked<T extends AnyId>(
    type: Exclude<FileType, 'data' | 'keys' | 'config'>,
    json: Buffer,
    signal?: AbortSignal,
  ): Promise<T> {
    const sealed = seal(this.key, encodeUnpacked(json, this.version))
    // Decrypt what is about to be written, as restic does: bad RAM or a bug shows up here
    // instead of in a snapshot nobody can read.
    const back = open(this.key, sealed)
    if (!back || !decodeUnpacked(back, this.version).equals(json)) {
      throw new Error(`sealed ${type} file does not decrypt to what was written`)
    }
    const id = createHash('sha256').update(sealed).digest('hex') as T
    await this.backend.save({ type, name: id }, sealed, { signal })
    return id
  }
}
