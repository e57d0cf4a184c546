import type { BlobDamage } from '../blob-codec.js'
import type { Polynomial } from '../chunker/index.js'
import type { SpooledFile } from '../backend/backend.js'
import type { BlobType, PackEntry } from '../pack/index.js'

/**
 * Messages between the crypto pool and its worker threads. Buffers travel as transfers.
 *
 * `hash` starts a two-step save: the worker hashes the data, answers `hashed`, and keeps the
 * data until the main thread says `seal-held` (new to the repository: seal it) or `drop`
 * (already stored). Deduplication stays exact while the hashing leaves the main thread.
 *
 * `chunk-open` starts a stream the worker cuts into chunks: each `chunk-feed` brings its next
 * bytes; the worker answers every whole chunk with `chunk` (its ID and bytes, transferred
 * back, so that any worker can seal it) and each feed with `fed`; the feed marked `end`
 * also yields the stream's last chunk, and its `fed` ends the task. `fed` brings the feed's
 * buffer back, and `chunk-spare` (no task) gives a chunk's buffer back to the worker that cut
 * it, once sealed: both are reused. `chunk-close` forgets a stream abandoned half-way.
 *
 * `read-hash` is `hash` for a small file the worker reads itself (by name, latin1): the
 * bytes never cross threads, and the read costs no round trip through libuv's pool. It is
 * answered `hashed` (with the length read), `grew` (the file holds more than its stat said:
 * nothing is held, the caller streams it instead) or `unreadable`.
 *
 * `open-range` opens many blobs of one read of a pack in one round trip (a restore reading
 * pack by pack): the range travels once instead of being cut into a copy per blob.
 * `verify-pack` is a check's reading of a whole pack: the worker hashes the file and opens
 * every blob, and answers `verified-pack` with the file's SHA-256 and each blob's damage
 * (null when sound); no plaintext comes back. A local pack the worker reads itself (into a
 * buffer it keeps); `unread` says it could not.
 *
 * A backup's data blobs go into packs built on the workers (WorkerPack): `seal` and
 * `seal-held` with `into` seal the blob into that packer's open pack on this worker, and are
 * answered `packed` (its stored length, and the pack when the blob filled it); `pack-finish`
 * answers `pack-finished` with the blobs of the packer's open pack, unfinished (no header,
 * `id` empty: the main thread packs the last blobs of every worker together), or none;
 * `pack-drop` forgets it (answered `pack-finished` without a pack; later blobs of that
 * packer fail),
 * and `pack-buffer` gives a saved pack's buffer back for the next pack. A packer is one
 * BlobSaver: several may build packs at once (two backups of one repository).
 *
 * `write-range` goes one step further for a restore into files: the worker reads the range
 * (from a local pack file) or takes it (transferred), opens its blobs and writes each into
 * the files that list it; only the outcome comes back (see RangeWriter).
 */
export type CryptoRequest =
  | {
      readonly kind: 'seal'
      readonly task: number
      readonly type: BlobType
      readonly data: Uint8Array
      readonly compress: boolean
      /** Seal into this pack (the blob's ID is then needed for its header). */
      readonly into?: PackTarget & { readonly id: string }
      /** Send `data`'s ArrayBuffer back once sealed into the pack, for its producer to reuse. */
      readonly giveBack?: boolean
    }
  | {
      readonly kind: 'hash'
      readonly task: number
      readonly type: BlobType
      readonly data: Uint8Array
      readonly compress: boolean
    }
  | {
      readonly kind: 'read-hash'
      readonly task: number
      /** The file's name, one character per byte (latin1). */
      readonly path: string
      /** The size its stat gave; more than this is `grew`. */
      readonly size: number
      readonly compress: boolean
    }
  | { readonly kind: 'chunk-open'; readonly task: number; readonly pol: Polynomial }
  | {
      readonly kind: 'chunk-feed'
      readonly task: number
      readonly data: Uint8Array
      readonly end: boolean
    }
  | { readonly kind: 'chunk-close'; readonly task: number }
  | { readonly kind: 'chunk-spare'; readonly task: 0; readonly buffer: ArrayBuffer }
  | { readonly kind: 'seal-held'; readonly task: number; readonly into?: PackTarget }
  | { readonly kind: 'pack-finish'; readonly task: number; readonly packer: number }
  | { readonly kind: 'pack-drop'; readonly task: number; readonly packer: number }
  | { readonly kind: 'pack-buffer'; readonly task: number; readonly buffer: ArrayBuffer }
  | { readonly kind: 'drop'; readonly task: number }
  | {
      readonly kind: 'open'
      readonly task: number
      readonly sealed: Uint8Array
      readonly id: string
      readonly uncompressedLength: number | undefined
    }
  | {
      readonly kind: 'open-range'
      readonly task: number
      /** Stored bytes of a pack holding every blob of `blobs`, at their offsets. */
      readonly sealed: Uint8Array
      readonly blobs: readonly SealedSlice[]
    }
  | {
      readonly kind: 'write-range'
      readonly task: number
      readonly source: RangeSource
      readonly blobs: readonly SealedTarget[]
    }
  | {
      readonly kind: 'verify-pack'
      readonly task: number
      /** A whole pack file: its bytes, or the file to read. */
      readonly source: RangeSource
      readonly blobs: readonly SealedSlice[]
      /** Send the bytes' ArrayBuffer back once verified (the caller reuses it). */
      readonly giveBack?: boolean
    }

/**
 * Where a blob sealed on a worker goes: the open pack of a packer, up to `packSize`; with
 * `spool`, a file in that directory (created with `mode`) rather than a buffer.
 */
export interface PackTarget {
  readonly packer: number
  readonly packSize: number
  readonly spool?: { readonly dir: string; readonly mode: number }
}

/**
 * A pack finished on a worker: its bytes are the first `size` of `buffer` (transferred), or
 * of the spooled `file`, still open. As the answer to `pack-finish`, only its blobs, with no
 * header and no `id`.
 */
export type PackFromWorker = {
  readonly id: string
  readonly size: number
  readonly entries: readonly PackEntry[]
} & ({ readonly buffer: ArrayBuffer } | { readonly file: SpooledFile })

/** The stored bytes of a range of a pack: transferred, or a local file's to read. */
export type RangeSource =
  | { readonly sealed: Uint8Array }
  | { readonly file: string; readonly offset: number; readonly length: number }

/** A blob of a `write-range` request, and the files (and positions in them) it goes to. */
export interface SealedTarget extends SealedSlice {
  /**
   * `path` holds the file name's bytes, one character each (latin1): names of any bytes,
   * and a string travels without the copy of a whole pooled buffer that a Buffer's would.
   */
  readonly targets: readonly {
    readonly path: string
    readonly position: number
    /**
     * Create the file with this write (O_CREAT|O_EXCL, never over anything): it is the
     * file's only blob, so no other write needs it to exist.
     */
    readonly create?: boolean
  }[]
}

/** A file a worker could not read or write, as the error said (`code`: ENOSPC, EACCES…). */
export interface FileFailure {
  readonly message: string
  readonly code?: string
}

/** What a worker did with a `write-range` request. */
export type RangeWritten =
  | { readonly results: readonly (BlobDamage | null)[] }
  | { readonly unread: string }
  | { readonly writeFailed: FileFailure }

/** What a worker found in a pack (`verify-pack`), or why it could not read it. */
export type PackVerified =
  | { readonly sha256: string; readonly results: readonly (BlobDamage | null)[] }
  | { readonly unread: string }

/** A blob within the bytes of an `open-range` request. */
export interface SealedSlice {
  readonly offset: number
  readonly length: number
  readonly id: string
  readonly uncompressedLength: number | undefined
}

export type CryptoResponse =
  | {
      readonly kind: 'sealed'
      readonly task: number
      readonly sealed: Uint8Array
      readonly uncompressedLength: number | undefined
    }
  | {
      readonly kind: 'hashed'
      readonly task: number
      readonly id: string
      /** For `read-hash`: the bytes read. */
      readonly length?: number
    }
  | {
      readonly kind: 'packed'
      readonly task: number
      /** The blob's stored length, and its plaintext's when compressed. */
      readonly length: number
      readonly uncompressedLength?: number
      /** The pack this blob filled, finished. */
      readonly full?: PackFromWorker
      /** The request's ArrayBuffer, when it asked for it back (`giveBack`). */
      readonly spare?: ArrayBuffer
    }
  | { readonly kind: 'pack-finished'; readonly task: number; readonly pack?: PackFromWorker }
  | { readonly kind: 'grew'; readonly task: number }
  | { readonly kind: 'unreadable'; readonly task: number; readonly failure: FileFailure }
  | {
      readonly kind: 'chunk'
      readonly task: number
      readonly id: string
      readonly data: Uint8Array
    }
  | {
      readonly kind: 'fed'
      readonly task: number
      readonly end: boolean
      /** The feed's buffer, back for the next feed. */
      readonly feed: ArrayBuffer
    }
  | { readonly kind: 'opened'; readonly task: number; readonly data: Uint8Array }
  | ({
      readonly kind: 'verified-pack'
      readonly task: number
      /** The request's ArrayBuffer, sent back when it asked (`giveBack`). */
      readonly buffer?: ArrayBuffer
    } & PackVerified)
  | { readonly kind: 'damaged'; readonly task: number; readonly damage: BlobDamage }
  | {
      readonly kind: 'opened-range'
      readonly task: number
      /** Per blob of the request, in its order: the plaintext, or what is wrong with it. */
      readonly results: readonly (Uint8Array | BlobDamage)[]
    }
  | ({ readonly kind: 'wrote-range'; readonly task: number } & RangeWritten)
  | {
      readonly kind: 'failed'
      readonly task: number
      readonly message: string
      /** Present when writing a spooled pack failed: what, and the system's code. */
      readonly storage?: { readonly what: string; readonly code?: string }
    }

export interface CryptoWorkerData {
  readonly key: Uint8Array
}
