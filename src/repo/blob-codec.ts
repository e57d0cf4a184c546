import { createHash } from 'node:crypto'
import { Scratch } from '../lib/index.js'
import { compressIfSmaller, compress, decompressExact } from './compression.js'
// Not the crypto index: key files and the KDF are not needed where blobs are sealed.
import { open, sealInto, SEAL_OVERHEAD } from './crypto/authenticated-encryption.js'
import type { MasterKey } from './crypto/index.js'
import type { BlobType } from './pack/index.js'

/**
 * Turning a blob's plaintext into its stored form and back: compress (version 2, and only
 * when it helps for data; trees always compress well), seal, and on the way back verify the
 * MAC, decrypt, decompress and check the SHA-256 against the blob's ID. Pure functions over
 * bytes, so they run the same on the main thread and in worker threads.
 */
export interface SealedBlob {
  readonly sealed: Buffer
  /** Set when the stored form is compressed. */
  readonly uncompressedLength?: number
}

const compressed = new Scratch()

export function sealBlob(
  key: MasterKey,
  type: BlobType,
  plaintext: Uint8Array,
  canCompress: boolean,
): SealedBlob {
  return sealBlobInto(key, type, plaintext, canCompress, (n) => Buffer.allocUnsafe(n))
}

/**
 * `sealBlob` into a buffer of the caller's: `reserve(n)` gives the `n` bytes the stored
 * form takes (a view of a pack being built, or a buffer of its own). Returns that view and,
 * when compressed, the plaintext's length.
 */
export function sealBlobInto(
  key: MasterKey,
  type: BlobType,
  plaintext: Uint8Array,
  canCompress: boolean,
  reserve: (length: number) => Buffer,
): SealedBlob {
  let body = plaintext
  let uncompressedLength: number | undefined
  if (canCompress) {
    // Sealing copies the compressed bytes, so they can live in this thread's scratch.
    const z =
      type === 'tree'
        ? compress(plaintext, undefined, compressed)
        : compressIfSmaller(plaintext, undefined, compressed)
    if (z && z.length < plaintext.length) {
      body = z
      uncompressedLength = plaintext.length
    }
  }
  const out = reserve(body.length + SEAL_OVERHEAD)
  sealInto(key, body, out)
  return uncompressedLength === undefined ? { sealed: out } : { sealed: out, uncompressedLength }
}

/** Why a stored blob could not be opened; the caller names the pack file. */
export type BlobDamage =
  'fails authentication (MAC)' | 'does not decompress' | 'does not match its ID (SHA-256)'

/** Buffers a thread reuses to open blobs whose plaintext it does not keep. */
export class OpenScratch {
  readonly decrypted = new Scratch()
  readonly decompressed = new Scratch()
}

/**
 * Opens a stored blob, or says what is wrong with it. With `into`, the plaintext is a view
 * of one of its buffers, valid until its next use: for a caller that writes or checks the
 * plaintext at once and keeps nothing.
 */
export function openBlob(
  key: MasterKey,
  sealed: Uint8Array,
  id: string,
  uncompressedLength: number | undefined,
  into?: OpenScratch,
): Buffer | BlobDamage {
  const plain = open(key, sealed, into?.decrypted)
  if (!plain) return 'fails authentication (MAC)'
  let data = plain
  if (uncompressedLength !== undefined) {
    try {
      data = decompressExact(plain, uncompressedLength, into?.decompressed)
    } catch {
      return 'does not decompress'
    }
  }
  if (createHash('sha256').update(data).digest('hex') !== id)
    return 'does not match its ID (SHA-256)'
  return data
}
