import type { BlobSaver } from './blob-saver.js'
import { chunkStream, type Polynomial } from './chunker/index.js'
import type { BlobId } from './id.js'

export interface SavedContent {
  /** Data blob IDs of the content, in order. */
  readonly content: BlobId[]
  readonly size: number
  /** Plaintext bytes of blobs that were new to the repository. */
  readonly newBytes: number
}

/**
 * Saves a byte stream as data blobs: content-defined chunks (restic-compatible, so the same
 * bytes saved by restic or Coffer are stored once), hashed, deduplicated and packed. Memory
 * is one chunk (≤ 8 MiB) plus the saver's bounded packs, whatever the stream's length.
 */
/** Chunks of one stream being sealed at once: keeps the worker pool busy on a single file. */
const IN_FLIGHT_PER_STREAM = 4

export async function saveContent(
  source: AsyncIterable<Uint8Array>,
  saver: BlobSaver,
  pol: Polynomial,
  opts: { readonly signal?: AbortSignal; readonly onBytes?: (n: number) => void } = {},
): Promise<SavedContent> {
  const content: BlobId[] = []
  let size = 0
  let newBytes = 0
  const inFlight = new Set<Promise<void>>()
  let failure: { error: unknown } | undefined
  try {
    for await (const chunk of chunkStream(source, pol, { signal: opts.signal })) {
      if (failure) break
      const index = content.length
      const length = chunk.length
      content.push('' as BlobId)
      size += length
      // Hashing and sealing happen on worker threads while the next chunk is cut; the blob
      // list keeps stream order whatever order the workers finish in.
      const p: Promise<void> = saver
        .saveUnhashed('data', chunk, opts.signal)
        .then(({ id, added }) => {
          content[index] = id
          if (added) newBytes += length
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
