import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { CofferError } from '../errors.js'

const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16

/**
 * Seals secrets at rest (repository passwords, database URLs, hook commands, webhook
 * secrets, the SMTP password) with AES-256-GCM under the master key. A sealed value is
 * `v1:<base64 iv | tag | ciphertext>`; `purpose` is bound as associated data, so a value
 * sealed for one column cannot be swapped into another.
 *
 * Holds the key: never logged (`toJSON` and `inspect` say only that it is a key).
 */
export class SecretBox {
  readonly #key: Buffer

  constructor(key: Uint8Array) {
    if (key.length !== 32)
      throw new CofferError('invalid_input', 'The master key must be 32 bytes.')
    this.#key = Buffer.from(key)
  }

  seal(plain: string, purpose: string): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(Buffer.from(purpose))
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64')}`
  }

  /** Opens a sealed value; throws when the key is wrong or the value was altered. */
  open(sealed: string, purpose: string): string {
    const [version, body] = sealed.split(':', 2)
    if (version !== VERSION || body === undefined)
      throw new CofferError('internal', `A stored secret (${purpose}) has an unknown format.`)
    const raw = Buffer.from(body, 'base64')
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES))
    decipher.setAAD(Buffer.from(purpose))
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
    try {
      return Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8')
    } catch (e) {
      throw new CofferError(
        'internal',
        `A stored secret (${purpose}) cannot be opened: is this the master key it was sealed with?`,
        { cause: e },
      )
    }
  }

  toJSON(): string {
    return '[SecretBox]'
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[SecretBox]'
  }
}
