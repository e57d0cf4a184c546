import type { HashedChunk, Polynomial } from '../../repo/index.js'

/** Messages between the row encoders (row-encoders.ts) and their worker threads. */

/**
 * What a stream sends back: the encoded lines; nothing (it is only counted and hashed); or
 * the lines cut into the repository's chunks with polynomial `pol`, each with its ID.
 */
export type EncoderOutput = 'lines' | 'none' | { readonly pol: Polynomial }

export type EncoderRequest =
  | {
      readonly kind: 'open'
      readonly stream: number
      readonly output: EncoderOutput
      /** Whether the lines are hashed (the `done` answer's sha256; empty when not). */
      readonly hashed: boolean
    }
  /** A feed of framed row packets (row-feeds.ts), transferred. */
  | { readonly kind: 'feed'; readonly stream: number; readonly data: Uint8Array }
  | { readonly kind: 'end'; readonly stream: number }
  /** Forgets a stream that will not be ended. */
  | { readonly kind: 'drop'; readonly stream: number }
  /**
   * A chunk's buffer back from the repository, or a lines buffer back from its reader
   * (transferred), for the thread's next chunks or lines.
   */
  | { readonly kind: 'spare'; readonly buffer: ArrayBuffer }

export type EncoderAnswer =
  /**
   * A feed done: its lines, or the chunks that ended within them (as the stream's output
   * says), and the feed's buffer back for reuse.
   */
  | {
      readonly kind: 'encoded'
      readonly stream: number
      readonly lines?: Uint8Array
      readonly chunks?: readonly HashedChunk[]
      readonly feed: Uint8Array
    }
  /** The stream's end: its counts, and its last chunk when it is chunked. */
  | {
      readonly kind: 'done'
      readonly stream: number
      readonly rows: number
      readonly bytes: number
      readonly sha256: string
      readonly chunks?: readonly HashedChunk[]
    }
  | { readonly kind: 'failed'; readonly stream: number; readonly message: string }
