import type { BlobSaver } from './blob-saver.js'
import { chunkStream, type Polynomial } from './chunker/index.js'
import { hashId, type BlobId } from './id.js'

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
export async function saveContent(
  source: AsyncIterable<Uint8Array>,
  saver: BlobSaver,
  pol: Polynomial,
  opts: { readonly signal?: AbortSignal; readonly onBytes?: (n: number) => void } = {},
): Promise<SavedContent> {
  const content: BlobId[] = []
  let size = 0
  let newBytes = 0
  for await (const chunk of chunkStream(source, pol, { signal: opts.signal })) {
    const id = hashId<BlobId>(chunk)
    content.push(id)
    size += chunk.length
    if (await saver.save('data', id, chunk, opts.signal)) newBytes += chunk.length
    opts.onBytes?.(chunk.length)
  }
  return { content, size, newBytes }
}
