import { createHash } from 'node:crypto'
import { deriveUserKey, type KdfParams } from './kdf.js'
import type { MasterKey } from './master-key.js'

/** How many derived keys a cache keeps: a server's repositories, a password each. */
const DEFAULT_ENTRIES = 64

/**
 * Derived user keys kept by a long-running process: `coffer serve` and its workers open the
 * same repositories for every activity, and each open would otherwise run scrypt again (0.1 s
 * with Coffer's parameters, 0.5 s or more with those restic calibrates). Entries are keyed by
 * a SHA-256 of the parameters, the salt and the password, so no password is kept; the least
 * recently used goes first. Nothing here vouches for a key file: the open still lists and
 * reads the repository's key files and checks each one's MAC, so a key file removed from the
 * repository no longer opens it with its password, cached or not.
 */
export class UserKeyCache {
  private readonly entries = new Map<string, Promise<MasterKey>>()
  /** scrypt runs started (tests and metrics: hits do not count). */
  derivations = 0

  constructor(private readonly maxEntries = DEFAULT_ENTRIES) {}

  /** The user key `password` gives with this salt and these parameters. */
  derive(password: string, salt: Uint8Array, params: KdfParams): Promise<MasterKey> {
    const name = createHash('sha256')
      .update(`${params.N},${params.r},${params.p}\0`)
      .update(salt)
      .update('\0')
      .update(password, 'utf8')
      .digest('hex')
    const hit = this.entries.get(name)
    if (hit) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(name)
      this.entries.set(name, hit)
      return hit
    }
    this.derivations++
    const derived = deriveUserKey(password, salt, params)
    this.entries.set(name, derived)
    // A failed derivation (parameters scrypt refuses) is not kept.
    derived.catch(() => {
      if (this.entries.get(name) === derived) this.entries.delete(name)
    })
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
    return derived
  }

  get size(): number {
    return this.entries.size
  }
}
