/**
 * Row packets gathered into feeds: buffers of whole packets, framed as the server framed
 * them (a 3-byte little-endian payload length, one byte the reader ignores, the payload),
 * that a worker thread turns into data-file lines (row-encoder-worker.ts).
 *
 * mysql2 hands each packet over as a window of the socket read it arrived in, and packets
 * that arrived together sit back to back there, headers included. So a run of them is
 * copied into a feed with one `copy`, not one per row: the thread that reads the socket
 * does no per-row work beyond mysql2's own. A packet that is not next to the previous one and
 * has no header of its own in its buffer (it spanned two reads and mysql2 copied it into a
 * buffer whose length bytes it leaves unset, or it is one of the rare rows of 16 MiB or more
 * that mysql2 puts together from several packets) gets a header written here: its length, or for a payload too long
 * for three bytes the marker 0xFFFFFF and a 4-byte length after the ignored byte. The
 * server never sends a payload of exactly 0xFFFFFF bytes alone (such a packet is continued
 * by the next, and mysql2 joins them), so the marker cannot be a real length.
 */

/** The window of a packet as mysql2's parser hands it over (its reused `Packet`). */
export interface PacketWindow {
  readonly buffer: Buffer
  /** Where the packet's 4-byte header starts (= offset - 4 when the header is in `buffer`). */
  readonly start: number
  /** Where the payload starts. */
  readonly offset: number
  readonly end: number
}

/** A feed: framed row packets, `rows` of them, in `data`. */
export interface RowFeed {
  readonly data: Buffer
  readonly rows: number
}

const HEADER = 4
export const LONG_MARKER = 0xffffff
/** Feed size: one message to the worker per MiB of rows. */
export const FEED_BYTES = 1024 * 1024
/** Feeds ready and not yet taken, beyond which the connection is paused. */
const READY_FEEDS = 2

/**
 * Feed buffers of ended queries, for the next queries of the process. A capture or a delta
 * restore's comparison runs a query per table or stored part, hundreds of them; each took
 * fresh buffers, whose every page costs a fault when first written (about 10 µs here: the
 * copy of rows into feeds took 150 ms of the reading thread in the scale-1 environment's
 * delta restore, most of it in faults). At most what four connections have in flight.
 */
const SPARE_FEEDS = 16
const spareFeeds: Buffer[] = []

function takeFeed(): Buffer {
  return spareFeeds.pop() ?? Buffer.allocUnsafe(FEED_BYTES)
}

function giveFeed(b: Buffer): void {
  if (b.length === FEED_BYTES && spareFeeds.length < SPARE_FEEDS) spareFeeds.push(b)
}

/**
 * Gathers one query's row packets into feeds. `add` is called for each packet as mysql2
 * parses it; `end` or `fail` once. Feeds are taken with `next`, one at a time; the
 * connection is paused while `READY_FEEDS` wait to be taken and resumed when one is. After
 * `discard` (the reader stopped early) packets are dropped as they come and the connection
 * is never paused again, so the query runs to its end and the session stays usable.
 */
export class RowFeedCollector {
  private feed: Buffer
  private at = 0
  /** Rows written into `feed`. */
  private feedRows = 0
  /** The run of back-to-back packets not yet copied: a window of one socket read. */
  private spanBuffer: Buffer | undefined
  private spanStart = 0
  private spanEnd = 0
  private spanRows = 0
  private runRows = 0
  private readonly ready: RowFeed[] = []
  private readonly spare: Buffer[] = []
  private ended = false
  private discarded = false
  private failure: { error: unknown } | undefined
  private paused = false
  private wake: (() => void) | undefined

  constructor(
    private readonly pause: () => void,
    private readonly resume: () => void,
  ) {
    this.feed = takeFeed()
  }

  add(p: PacketWindow): void {
    if (this.discarded) return
    if (p.buffer === this.spanBuffer && p.start === this.spanEnd) {
      this.spanEnd = p.end
      this.spanRows++
    } else {
      this.flushSpan()
      // mysql2 leaves the length bytes of a packet it put together from two reads unset:
      // a header is used only if it says the packet's length.
      if (p.offset - p.start === HEADER && p.buffer.readUIntLE(p.start, 3) === p.end - p.offset) {
        this.spanBuffer = p.buffer
        this.spanStart = p.start
        this.spanEnd = p.end
        this.spanRows = 1
      } else this.addUnframed(p)
    }
    if (this.at + (this.spanEnd - this.spanStart) >= FEED_BYTES) {
      this.flushSpan()
      this.finishFeed()
    }
  }

  /**
   * Adds `rows` whole packets that lie back to back, headers included, in `buffer[start,
   * end)`: what the socket reader (row-socket-reader.ts) finds in one read.
   */
  addRun(buffer: Buffer, start: number, end: number, rows: number): void {
    if (this.discarded) return
    this.flushSpan()
    this.room(end - start)
    this.at += buffer.copy(this.feed, this.at, start, end)
    this.feedRows += rows
    this.runRows += rows
    if (this.at >= FEED_BYTES) this.finishFeed()
  }

  /** Adds one packet's payload, `buffer[from, to)`, whose header is not in the buffer. */
  addPayload(buffer: Buffer, from: number, to: number): void {
    if (this.discarded) return
    this.flushSpan()
    this.addUnframed({ buffer, start: from, offset: from, end: to })
    this.runRows++
    if (this.at >= FEED_BYTES) this.finishFeed()
  }

  /** Rows that came through `addRun` or `addPayload`, not packet by packet (for tests). */
  get rowsReadFromSocket(): number {
    return this.runRows
  }

  end(): void {
    if (this.discarded) this.spanBuffer = undefined
    this.flushSpan()
    this.finishFeed()
    this.ended = true
    // No more rows: the feed begun and the spares serve the next queries.
    giveFeed(this.feed)
    this.feed = Buffer.alloc(0)
    for (const b of this.spare.splice(0)) giveFeed(b)
    this.notify()
  }

  fail(error: unknown): void {
    this.failure ??= { error }
    this.notify()
  }

  /** Drops what is gathered and whatever comes; the query is left to run to its end. */
  discard(): void {
    this.discarded = true
    this.spanBuffer = undefined
    this.ready.length = 0
    for (const b of this.spare.splice(0)) giveFeed(b)
    if (this.paused) {
      this.paused = false
      this.resume()
    }
  }

  /** Gives back a feed's buffer once its bytes were used, for a later feed. */
  recycle(data: Buffer): void {
    if (this.ended || this.discarded || this.spare.length > READY_FEEDS) giveFeed(data)
    else if (data.length === FEED_BYTES) this.spare.push(data)
  }

  /** The next feed, or undefined at the end; rejects with the query's failure. */
  async next(): Promise<RowFeed | undefined> {
    for (;;) {
      if (this.failure) throw this.failure.error
      const feed = this.ready.shift()
      if (feed) {
        if (this.paused && this.ready.length < READY_FEEDS) {
          this.paused = false
          // mysql2 hands over the packets it held back from here, synchronously.
          this.resume()
        }
        return feed
      }
      if (this.ended) return undefined
      await new Promise<void>((resolve) => (this.wake = resolve))
    }
  }

  private notify(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  /** Copies the run of packets seen so far into the feed. */
  private flushSpan(): void {
    const b = this.spanBuffer
    if (!b) return
    const length = this.spanEnd - this.spanStart
    this.room(length)
    this.at += b.copy(this.feed, this.at, this.spanStart, this.spanEnd)
    this.feedRows += this.spanRows
    this.spanBuffer = undefined
  }

  /** Writes a packet whose header is not in its buffer, with a header made here. */
  private addUnframed(p: PacketWindow): void {
    const length = p.end - p.offset
    const long = length >= LONG_MARKER
    const head = long ? HEADER + 4 : HEADER
    this.room(head + length)
    const f = this.feed
    f.writeUIntLE(long ? LONG_MARKER : length, this.at, 3)
    f[this.at + 3] = 0
    if (long) f.writeUInt32LE(length, this.at + HEADER)
    this.at += head
    this.at += p.buffer.copy(f, this.at, p.offset, p.end)
    this.feedRows++
  }

  /** Makes room for `n` more bytes, finishing the feed first if they do not fit. */
  private room(n: number): void {
    if (this.at + n <= this.feed.length) return
    this.finishFeed()
    if (n > this.feed.length) this.feed = Buffer.allocUnsafe(n)
  }

  private finishFeed(): void {
    if (this.at === 0 || this.discarded) return
    this.ready.push({ data: this.feed.subarray(0, this.at), rows: this.feedRows })
    this.feedRows = 0
    this.feed = this.spare.pop() ?? takeFeed()
    this.at = 0
    if (!this.paused && this.ready.length >= READY_FEEDS) {
      this.paused = true
      this.pause()
    }
    this.notify()
  }
}
