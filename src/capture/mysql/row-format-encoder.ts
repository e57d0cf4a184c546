import { WASM_BASE64 } from './row-format-wasm.js'

/**
 * Row packets to data-file lines (row-format.ts, docs/FORMAT.md "MySQL table data"), by the
 * WebAssembly module of row-format.wat: a feed is copied into the module's memory, encoded
 * there, and the lines are read from it.
 */

interface RowFormatExports {
  readonly memory: WebAssembly.Memory
  readonly encode: (p: number, n: number, out: number) => [number, number]
}

/** The first 256 bytes of the memory hold the escape table (row-format.wat). */
const FEED_AT = 256
/** Spare bytes after the feed and after the lines: fields are read and written 16 at a time. */
const SLACK = 16
const PAGE = 65536

/**
 * Room enough for the lines of a feed of `n` bytes: a field's output (separator, escaped
 * bytes or \N) is at most three times its input (length prefix and bytes, or the one-byte
 * NULL marker), and each row's newline is paid for by its 4-byte frame header.
 */
const encodedBound = (n: number): number => 3 * n + 1

/** What the module's error codes mean (row-format.wat); 256 + a byte is an unknown marker. */
const MESSAGES: Record<number, string> = {
  1: 'malformed row feed: a header runs past its end',
  2: 'malformed row feed: a packet runs past its end',
  3: 'malformed row packet: a field runs past its end',
}

/**
 * Memory an encoder keeps between feeds. A WebAssembly memory only grows: after a feed with a
 * huge row (a LONGBLOB of hundreds of MB needs four times that here), an encoder holding more
 * than this starts over with a new instance for its next ordinary feed, and the big memory
 * goes with the old one, instead of staying with the thread for the life of the process.
 */
const RETAINED_BYTES = 64 * 1024 * 1024

/** The compiled module, shared by the encoders of a thread. */
let compiled: WebAssembly.Module | undefined

function instantiate(): RowFormatExports {
  compiled ??= new WebAssembly.Module(Buffer.from(WASM_BASE64, 'base64'))
  return new WebAssembly.Instance(compiled).exports as unknown as RowFormatExports
}

/** One encoder per thread: its memory grows to the largest recent feed's needs. */
export class RowFeedEncoder {
  #exports = instantiate()

  /** Bytes of memory the encoder holds now. */
  get memoryBytes(): number {
    return this.#exports.memory.buffer.byteLength
  }

  /**
   * The lines of `feed` (framed row packets, row-feeds.ts) and its rows. The lines are a view
   * of the encoder's memory, valid until its next call: copy what must outlive it.
   */
  encode(feed: Uint8Array): { lines: Buffer; rows: number } {
    const out = FEED_AT + Math.ceil((feed.length + SLACK) / 16) * 16
    const need = out + encodedBound(feed.length) + SLACK
    // The lines of the previous call are no longer needed (see above): its memory may go.
    if (this.memoryBytes > RETAINED_BYTES && need <= RETAINED_BYTES) this.#exports = instantiate()
    const { memory, encode } = this.#exports
    if (memory.buffer.byteLength < need) {
      try {
        memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE))
      } catch {
        throw new Error(`a row feed of ${feed.length} bytes is too large to encode`)
      }
    }
    new Uint8Array(memory.buffer, FEED_AT, feed.length).set(feed)
    const [end, rows] = encode(FEED_AT, feed.length, out)
    if (end === 0)
      throw new Error(
        MESSAGES[rows] ?? `malformed row packet: length marker 0x${(rows - 256).toString(16)}`,
      )
    // Addresses are unsigned: beyond 2 GiB, the module's i32 reads as negative here.
    return { lines: Buffer.from(memory.buffer, out, (end >>> 0) - out), rows }
  }
}
