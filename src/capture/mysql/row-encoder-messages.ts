/** Messages between the row encoders (row-encoders.ts) and their worker threads. */

export type EncoderRequest =
  /** Starts a stream; `lines`: send the encoded lines back (else only count and hash). */
  | { readonly kind: 'open'; readonly stream: number; readonly lines: boolean }
  /** A feed of framed row packets (row-feeds.ts), transferred. */
  | { readonly kind: 'feed'; readonly stream: number; readonly data: Uint8Array }
  | { readonly kind: 'end'; readonly stream: number }
  /** Forgets a stream that will not be ended. */
  | { readonly kind: 'drop'; readonly stream: number }

export type EncoderAnswer =
  /** A feed's lines (when asked for), and the feed's buffer back for reuse. */
  | {
      readonly kind: 'encoded'
      readonly stream: number
      readonly lines?: Uint8Array
      readonly feed: Uint8Array
    }
  | {
      readonly kind: 'done'
      readonly stream: number
      readonly rows: number
      readonly bytes: number
      readonly sha256: string
    }
  | { readonly kind: 'failed'; readonly stream: number; readonly message: string }
