import type { Polynomial } from '../chunker/index.js'
import type { CryptoRequest, CryptoResponse } from './crypto-messages.js'

/** A chunk of a stream, cut and hashed on a worker thread. */
export interface HashedChunk {
  /** SHA-256 of the chunk, hex. */
  readonly id: string
  /** The chunk's bytes, with an ArrayBuffer of their own (transferable). */
  readonly data: Uint8Array
  /**
   * Takes the chunk's ArrayBuffer back once it is stored or found stored: `data` is then a
   * view of a buffer its producer reuses, and may be longer than the chunk.
   */
  readonly recycle?: (buffer: ArrayBuffer) => void
}

/** One task of the pool kept open for several requests and answers, on one worker. */
export interface WorkerChannel {
  readonly task: number
  post(req: CryptoRequest, transfer?: ArrayBuffer[]): void
  /** Ends the task if it is still open (the worker forgets the stream). */
  close(): void
  /** Gives a chunk's buffer back to the worker, for its next chunks; even once closed. */
  spare(buffer: ArrayBuffer): void
}

/**
 * Opens a channel with its first request (built for the task's number); `onAnswer` returns
 * true on the task's last answer.
 */
export type OpenChannel = (
  first: (task: number) => CryptoRequest,
  onAnswer: (r: CryptoResponse) => boolean,
  reject: (e: unknown) => void,
) => WorkerChannel

/**
 * Bytes per message to the worker: big enough that messaging costs nothing next to the
 * chunking, small enough that the worker starts early. Input is copied into feeds (a source
 * may reuse its buffers), so small reads cost one message per MiB, not one each.
 */
const FEED_BYTES = 1024 * 1024
/**
 * Feeds sent and not yet chunked: keeps the worker busy while the source reads on. Each comes
 * back with its `fed` answer and is filled again, so a stream maps these few MiB once.
 */
const FEEDS_IN_FLIGHT = 3
/** Chunks cut but not yet taken by the caller, in bytes, beyond which feeding waits. */
const QUEUED_BYTES = 8 * 1024 * 1024

/**
 * Cuts `source` into restic's chunks on a worker thread (see `ChunkAssembler`), which also
 * hashes them; yields them in stream order. The calling thread only copies bytes into feeds,
 * so a backup's chunking runs beside its sealing on every core instead of on the thread
 * that reads files and rows. Memory per stream: three feeds in flight, the worker's partial
 * chunk (< 8 MiB) and at most `QUEUED_BYTES` of chunks not yet taken. Stops with
 * `signal.reason` when the signal aborts; a caller that stops early closes the worker's
 * stream and the source.
 */
export async function* chunkOnWorker(
  source: AsyncIterable<Uint8Array>,
  pol: Polynomial,
  open: OpenChannel,
  signal?: AbortSignal,
): AsyncGenerator<HashedChunk> {
  const queue: HashedChunk[] = []
  const spareFeeds: Uint8Array<ArrayBuffer>[] = []
  let queuedBytes = 0
  let feedsInFlight = 0
  let ended = false
  let closed = false
  let failure: { error: unknown } | undefined
  // One wake-up list for both sides: each re-checks its own condition when woken.
  let waiters: (() => void)[] = []
  const wait = (): Promise<void> => new Promise((resolve) => waiters.push(resolve))
  const notify = (): void => {
    const woken = waiters
    waiters = []
    for (const w of woken) w()
  }
  const fail = (error: unknown): void => {
    failure ??= { error }
    notify()
  }

  // Sealed chunks' buffers go back to the worker that cut them, for its next chunks.
  const recycle = (buffer: ArrayBuffer): void => channel.spare(buffer)
  const channel = open(
    (task) => ({ kind: 'chunk-open', task, pol }),
    (r) => {
      // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- a stream gets only these two; any other answer is a failure
      switch (r.kind) {
        case 'chunk':
          queue.push({ id: r.id, data: r.data, recycle })
          queuedBytes += r.data.length
          notify()
          return false
        case 'fed':
          feedsInFlight--
          if (r.feed.byteLength === FEED_BYTES && spareFeeds.length < FEEDS_IN_FLIGHT)
            spareFeeds.push(new Uint8Array(r.feed))
          if (r.end) ended = true
          notify()
          return r.end
        default:
          throw new Error(r.kind === 'failed' ? r.message : `unexpected worker answer ${r.kind}`)
      }
    },
    fail,
  )
  signal?.addEventListener('abort', notify)

  const pump = async (): Promise<void> => {
    const newFeed = (): Uint8Array<ArrayBuffer> => spareFeeds.pop() ?? new Uint8Array(FEED_BYTES)
    let feed = newFeed()
    let fill = 0
    const send = async (end: boolean): Promise<void> => {
      while (
        !closed &&
        !failure &&
        (feedsInFlight >= FEEDS_IN_FLIGHT || queuedBytes >= QUEUED_BYTES)
      )
        await wait()
      if (closed || failure) throw new Error('chunking stopped')
      // A view, not a copy, of a last feed that is not full: the worker reads only its bytes.
      const data = feed.subarray(0, fill)
      channel.post({ kind: 'chunk-feed', task: channel.task, data, end }, [data.buffer])
      feedsInFlight++
      feed = end ? new Uint8Array(0) : newFeed()
      fill = 0
    }
    for await (const buf of source) {
      signal?.throwIfAborted()
      for (let at = 0; at < buf.length;) {
        const n = Math.min(buf.length - at, FEED_BYTES - fill)
        feed.set(buf.subarray(at, at + n), fill)
        fill += n
        at += n
        if (fill === FEED_BYTES) await send(false)
      }
    }
    await send(true)
  }
  // Errors of the pump reach the caller through `failure`; after the caller stopped they
  // are only the consequence of stopping.
  const pumping = pump().catch((e: unknown) => {
    if (!closed) fail(e)
  })

  try {
    for (;;) {
      signal?.throwIfAborted()
      if (failure) throw failure.error
      const next = queue.shift()
      if (next) {
        queuedBytes -= next.data.length
        notify()
        yield next
        continue
      }
      if (ended) break
      await wait()
    }
    await pumping
  } finally {
    closed = true
    notify()
    signal?.removeEventListener('abort', notify)
    channel.close()
  }
}
