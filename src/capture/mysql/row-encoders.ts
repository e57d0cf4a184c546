import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { workerEntry } from '../../lib/index.js'
import type { HashedChunk, Polynomial } from '../../repo/index.js'
import type { EncoderAnswer, EncoderOutput, EncoderRequest } from './row-encoder-messages.js'
import { FEED_BYTES, type RowFeed } from './row-feeds.js'

/** Where a query's feeds come from (a session's `stream`). */
export interface RowFeedSource {
  /** The next feed, or undefined at the end of the rows. */
  next(): Promise<RowFeed | undefined>
  /** Takes back a feed's buffer once it is no longer used. */
  recycle(data: Buffer): void
  /** The reader stops early: the rest of the rows are dropped as they come. */
  discard(): void
}

/** What a part's lines came to: rows, bytes and the SHA-256 of the lines (hex). */
export interface EncodedCount {
  rows: number
  bytes: number
  sha256: string
}

/** Feeds sent to the worker and not yet answered: keeps it busy while the socket is read. */
const FEEDS_IN_FLIGHT = 2

interface Pending {
  resolve(a: Extract<EncoderAnswer, { kind: 'encoded' }>): void
  reject(e: unknown): void
}

interface StreamState {
  readonly slot: Slot
  readonly encoded: Pending[]
  done?: { resolve(a: Extract<EncoderAnswer, { kind: 'done' }>): void; reject(e: unknown): void }
  /** Once the stream failed, every answer still awaited rejects with this. */
  failure?: { readonly error: Error }
}

interface Slot {
  readonly worker: Worker
  streams: number
}

/**
 * Worker threads that turn row packets into data-file lines (row-format.ts), so the
 * thread reading the server's socket only copies packets: encoding and hashing a table's
 * rows ran on that thread before, and it was the capture's bottleneck. A capture's lines are
 * also cut into chunks there (most of a capture's work: the crypto pool only compresses and
 * seals them), so there is one per core, up to four, shared by every query of the process
 * and started on first use; a worker is referenced only while it has streams, so an idle
 * encoder does not keep the process alive.
 */
class RowEncoders {
  private readonly slots: Slot[] = []
  private readonly streams = new Map<number, StreamState>()
  private nextStream = 1

  constructor(private readonly size: number) {}

  /**
   * Encodes the feeds of `source` on a worker; yields the lines (unless `lines` is false, for
   * a hash alone) and sets `count` when the rows end. A reader that stops early, or a
   * failure, discards the rest of the source. Options: `hashed: false` leaves
   * `count.sha256` empty (the lines are not hashed); `reused: true` takes each buffer of
   * lines back once the reader asks for the next (it must keep no view of them), so that
   * the worker writes the next lines into memory already mapped.
   */
  async *encode(
    source: RowFeedSource,
    count: EncodedCount,
    lines: boolean,
    signal?: AbortSignal,
    opts: { readonly hashed?: boolean; readonly reused?: boolean } = {},
  ): AsyncGenerator<Uint8Array> {
    const slot = this.slotFor()
    const output = lines ? 'lines' : 'none'
    for await (const a of this.run(source, count, output, signal, slot, opts.hashed ?? true)) {
      if (!a.lines || a.lines.length === 0) continue
      yield a.lines
      if (opts.reused && this.slots.includes(slot)) {
        const buffer = a.lines.buffer as ArrayBuffer
        this.post(slot, { kind: 'spare', buffer }, [buffer])
      }
    }
  }

  /**
   * `encode`, the lines cut into the repository's chunks with polynomial `pol` on the
   * worker, each with its ID (for TreeWriter.writeChunkedFile); yields them in order.
   */
  async *encodeChunks(
    source: RowFeedSource,
    count: EncodedCount,
    pol: Polynomial,
    signal?: AbortSignal,
  ): AsyncGenerator<HashedChunk> {
    const slot = this.slotFor()
    // A chunk's buffer goes back to the thread that made it, for its next chunks.
    const recycle = (buffer: ArrayBuffer): void => {
      if (this.slots.includes(slot)) this.post(slot, { kind: 'spare', buffer }, [buffer])
    }
    for await (const a of this.run(source, count, { pol }, signal, slot))
      if (a.chunks) for (const c of a.chunks) yield { ...c, recycle }
  }

  /** The worker's answers to the feeds of `source` then to its end, in order. */
  private async *run(
    source: RowFeedSource,
    count: EncodedCount,
    output: EncoderOutput,
    signal?: AbortSignal,
    slot = this.slotFor(),
    hashed = true,
  ): AsyncGenerator<{ readonly lines?: Uint8Array; readonly chunks?: readonly HashedChunk[] }> {
    const stream = this.nextStream++
    const state: StreamState = { slot, encoded: [] }
    this.streams.set(stream, state)
    if (slot.streams++ === 0) slot.worker.ref()
    let finished = false
    const inFlight: Promise<Extract<EncoderAnswer, { kind: 'encoded' }>>[] = []
    try {
      this.post(slot, { kind: 'open', stream, output, hashed })
      const take = async (): Promise<Extract<EncoderAnswer, { kind: 'encoded' }>> => {
        const a = await inFlight.shift()!
        source.recycle(Buffer.from(a.feed.buffer, a.feed.byteOffset, a.feed.buffer.byteLength))
        return a
      }
      for (;;) {
        signal?.throwIfAborted()
        const feed = await source.next()
        if (!feed) break
        const answered = new Promise<Extract<EncoderAnswer, { kind: 'encoded' }>>(
          (resolve, reject) => {
            if (state.failure) reject(state.failure.error)
            else state.encoded.push({ resolve, reject })
          },
        )
        // Awaited in order below; a failure meanwhile must not count as unhandled.
        answered.catch(() => undefined)
        inFlight.push(answered)
        const data = feed.data
        // A feed's buffer is its own and moves to the worker; one sharing a slab of Node's
        // buffer pool (a small feed built elsewhere) is copied instead.
        const own = data.buffer.byteLength >= FEED_BYTES
        this.post(slot, { kind: 'feed', stream, data }, own ? [data.buffer as ArrayBuffer] : [])
        if (inFlight.length >= FEEDS_IN_FLIGHT) yield await take()
      }
      while (inFlight.length > 0) yield await take()
      const done = await new Promise<Extract<EncoderAnswer, { kind: 'done' }>>(
        (resolve, reject) => {
          if (state.failure) return reject(state.failure.error)
          state.done = { resolve, reject }
          this.post(slot, { kind: 'end', stream })
        },
      )
      count.rows = done.rows
      count.bytes = done.bytes
      count.sha256 = done.sha256
      finished = true
      if (done.chunks) yield done
    } finally {
      if (!finished) {
        source.discard()
        this.post(slot, { kind: 'drop', stream })
      }
      this.streams.delete(stream)
      if (--slot.streams === 0) slot.worker.unref()
    }
  }

  private post(slot: Slot, req: EncoderRequest, transfer: ArrayBuffer[] = []): void {
    slot.worker.postMessage(req, transfer)
  }

  /** The worker with the fewest streams, started if there are fewer than `size`. */
  private slotFor(): Slot {
    let best: Slot | undefined
    for (const s of this.slots) if (!best || s.streams < best.streams) best = s
    if (best && (best.streams === 0 || this.slots.length >= this.size)) return best
    return this.start()
  }

  private start(): Slot {
    const worker = new Worker(workerEntry('row-encoder-worker', import.meta.url))
    const slot: Slot = { worker, streams: 0 }
    worker.on('message', (a: EncoderAnswer) => this.answered(a))
    const lost = (e: unknown): void => {
      const at = this.slots.indexOf(slot)
      if (at >= 0) this.slots.splice(at, 1)
      for (const st of this.streams.values()) if (st.slot === slot) failStream(st, e)
    }
    worker.on('error', lost)
    worker.on('exit', (code) => lost(new Error(`a row encoder thread exited (code ${code})`)))
    worker.unref()
    this.slots.push(slot)
    return slot
  }

  private answered(a: EncoderAnswer): void {
    const st = this.streams.get(a.stream)
    if (!st) return
    switch (a.kind) {
      case 'encoded':
        st.encoded.shift()?.resolve(a)
        return
      case 'done':
        st.done?.resolve(a)
        return
      case 'failed':
        failStream(st, new Error(a.message))
        return
    }
  }
}

function failStream(st: StreamState, e: unknown): void {
  st.failure ??= { error: e instanceof Error ? e : new Error(String(e)) }
  const error = st.failure.error
  for (const p of st.encoded.splice(0)) p.reject(error)
  st.done?.reject(error)
}

let shared: RowEncoders | undefined

/** The process's row encoders (started on first use). */
export function rowEncoders(): RowEncoders {
  shared ??= new RowEncoders(Math.max(1, Math.min(4, availableParallelism())))
  return shared
}

export type { RowEncoders }
