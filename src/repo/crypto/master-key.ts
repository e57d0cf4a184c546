import { randomBytes } from 'node:crypto'
import { JsonFields } from '../json-fields.js'

/**
 * The repository's master key (design.rst, "Keys, Encryption and MAC"): a 32-byte AES-256
 * key for encryption and a Poly1305-AES key made of a 16-byte AES-128 key `k` and the
 * 16-byte Poly1305 key `r`. Never logged: `toJSON` redacts it; `toRepoJSON` is the only way
 * out, used to seal it into a key file.
 */
export class MasterKey {
  constructor(
    readonly encrypt: Buffer,
    readonly macK: Buffer,
    readonly macR: Buffer,
  ) {
    if (encrypt.length !== 32 || macK.length !== 16 || macR.length !== 16) {
      throw new RangeError('master key parts must be 32, 16 and 16 bytes')
    }
  }

  static random(): MasterKey {
    return new MasterKey(randomBytes(32), randomBytes(16), randomBytes(16))
  }

  /** A key derived by the KDF: 32 bytes encryption, then 16 bytes k, then 16 bytes r. */
  static fromDerived(bytes: Buffer): MasterKey {
    return new MasterKey(bytes.subarray(0, 32), bytes.subarray(32, 48), bytes.subarray(48, 64))
  }

  /** The plaintext JSON stored (sealed) in a key file's `data`, in restic's field order. */
  toRepoJSON(): string {
    return JSON.stringify({
      mac: { k: this.macK.toString('base64'), r: this.macR.toString('base64') },
      encrypt: this.encrypt.toString('base64'),
    })
  }

  static fromRepoJSON(json: unknown): MasterKey {
    const f = new JsonFields(json, 'the master key')
    const mac = f.object('mac')
    return new MasterKey(
      Buffer.from(f.string('encrypt'), 'base64'),
      Buffer.from(mac.string('k'), 'base64'),
      Buffer.from(mac.string('r'), 'base64'),
    )
  }

  /** Plain bytes for handing to a worker thread (structured clone). */
  toBytes(): Uint8Array {
    return Buffer.concat([this.encrypt, this.macK, this.macR])
  }

  static fromBytes(bytes: Uint8Array): MasterKey {
    return MasterKey.fromDerived(Buffer.from(bytes))
  }

  toJSON(): string {
    return '[redacted]'
  }
}
