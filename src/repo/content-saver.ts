import type { BlobSaver } from './blob-saver.js'
import { MIN_SIZE, type Polynomial } from './chunker/index.js'
import type { BlobId } from './id.js'
import type { HashedChunk } from './workers/worker-chunking.js'

export interface SavedContent {
  /** Data blob IDs of the content, in order. */
  readonly content: BlobId[]
  readonly size: number
  /** Plaintext bytes of blobs that were new to the repository. */
  readonly newBytes: number
}

/** Chunks of one stream being sealed at once: keeps the worker pool busy on a single file. */
const IN_FLIGHT_PER_STREAM = 4

/**
 * Saves a byte stream as data blobs: content-defined chunks (restic-compatible, so the same
 * bytes saved by restic or Coffer are stored once), hashed, deduplicated and packed.
 *
 * Chunking and hashing run on a worker thread (`CryptoPool.chunks`), sealing on any worker;
 * this thread only reads, decides what is new and packs. A stream of at most `MIN_SIZE`
 * bytes is one chunk whatever its bytes (the chunker never cuts before `MIN_SIZE`), so it
 * skips the chunker: most files of a mount are that small. Memory per stream is bounded
 * (see `chunkOnWorker`), whatever the stream's length. A source must not reuse a buffer it
 * has yielded (Node's streams and file reads never do): a small stream's buffers are kept,
 * not copied, until they are sealed.
 */
export async function saveContent(
  source: AsyncIterable<Uint8Array>,
  saver: BlobSaver,
  pol: Polynomial,
  opts: { readonly signal?: AbortSignal; readonly onBytes?: (n: number) => void } = {},
): Promise<SavedContent> {
  const input = source[Symbol.asyncIterator]()
  try {
    return await saveFrom(input, saver, pol, opts)
  } catch (e) {
    // Whatever stopped the save, the source is closed (a file handle, a query).
    await input.return?.()
    throw e
  }
}

async function saveFrom(
  input: AsyncIterator<Uint8Array>,
  saver: BlobSaver,
  pol: Polynomial,
  opts: { readonly signal?: AbortSignal; readonly onBytes?: (n: number) => void },
): Promise<SavedContent> {
  const signal = opts.signal
  const head = await readHead(input, MIN_SIZE + 1, signal)
  if (head.done) {
    const data = concat(head.parts, head.length)
    if (data.length === 0) return { content: [], size: 0, newBytes: 0 }
    const { id, added } = await saver.saveUnhashed('data', data, signal)
    opts.onBytes?.(head.length)
    return { content: [id], size: head.length, newBytes: added ? head.length : 0 }
  }

  const rest = resume(head.parts, input)
  return saveChunks(saver.repo.pool.chunks(rest, pol, signal), saver, opts)
}

/**
 * Saves content that was already cut into chunks (with a chunker drawn from the repository's
 * polynomial: restic's, or the gear chunker for MySQL data files) and hashed, in order: deduplicates them and seals the new ones on the worker
 * threads. For a producer that chunks on a thread of its own (a MySQL capture cuts the
 * lines it encodes where it encodes them). An ID must be the SHA-256 of its chunk's bytes
 * (`hashId`): the repository stores the blob under it without hashing again.
 */
export async function saveChunks(
  chunks: AsyncIterable<HashedChunk>,
  saver: BlobSaver,
  opts: { readonly signal?: AbortSignal; readonly onBytes?: (n: number) => void } = {},
): Promise<SavedContent> {
  const signal = opts.signal
  const content: BlobId[] = []
  let size = 0
  let newBytes = 0
  const inFlight = new Set<Promise<void>>()
  let failure: { error: unknown } | undefined
  try {
    for await (const { id: hex, data, recycle } of chunks) {
      if (failure) break
      const id = hex as BlobId
      const length = data.length
      content.push(id)
      size += length
      if (!saver.claim('data', id)) {
        recycle?.(data.buffer as ArrayBuffer)
        opts.onBytes?.(length)
        continue
      }
      // Sealing happens on worker threads while the next chunks are cut.
      const p: Promise<void> = saver
        .sealAndAdd('data', id, data, signal, recycle)
        .then(() => {
          newBytes += length
          opts.onBytes?.(length)
        })
        .catch((error: unknown) => {
          failure ??= { error }
        })
        .finally(() => inFlight.delete(p))
      inFlight.add(p)
      if (inFlight.size >= IN_FLIGHT_PER_STREAM) await Promise.race(inFlight)
    }
  } finally {
    await Promise.all(inFlight)
  }
  if (failure) throw failure.error
  return { content, size, newBytes }
}

interface Head {
  /** The buffers read, as the source yielded them. */
  readonly parts: Uint8Array[]
  readonly length: number
  /** Whether the source ended within them. */
  readonly done: boolean
}

/** Reads until `limit` bytes or the end of the source, whichever comes first. */
async function readHead(
  input: AsyncIterator<Uint8Array>,
  limit: number,
  signal?: AbortSignal,
): Promise<Head> {
  const parts: Uint8Array[] = []
  let length = 0
  while (length < limit) {
    signal?.throwIfAborted()
    const r = await input.next()
    if (r.done) return { parts, length, done: true }
    if (r.value.length === 0) continue
    parts.push(r.value)
    length += r.value.length
  }
  return { parts, length, done: false }
}

/** The head's buffers, then the rest of the source (closed if the reader stops early). */
async function* resume(
  head: readonly Uint8Array[],
  input: AsyncIterator<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  try {
    yield* head
    for (;;) {
      const r = await input.next()
      if (r.done) return
      yield r.value
    }
  } finally {
    await input.return?.()
  }
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
