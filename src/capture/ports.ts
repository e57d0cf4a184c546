import type { Logger } from '../lib/index.js'
import type { HashedChunk, Node, Polynomial } from '../repo/index.js'

/**
 * What a capture driver needs from the repository while taking a snapshot: a place to stream
 * files into the snapshot's tree. Paths are POSIX, relative to the snapshot root
 * (`services/mysql/shop/orders.0001.tsv`); parent directories are created as needed.
 *
 * Concurrency: `writeFile` may be called concurrently for different paths. Writing the same
 * path twice is a bug. Data is chunked, deduplicated, compressed and encrypted on the way;
 * nothing is visible in the repository until the snapshot is committed by the caller.
 */
export interface TreeWriter {
  writeFile(
    path: string,
    data: AsyncIterable<Uint8Array>,
    opts?: { readonly mode?: number; readonly mtime?: Date; readonly signal?: AbortSignal },
  ): Promise<{ readonly size: number }>
  /**
   * Stores at `path` a file of an earlier snapshot of the same repository, as its node
   * (TreeReader.fileNode) says, without reading it: its blobs are already stored. Optional:
   * a writer without it makes drivers write such files again.
   */
  addFile?(path: string, node: Node): void
  /**
   * The repository's chunker polynomial, for a driver that cuts its content into chunks on a
   * thread of its own (`ChunkAssembler`) and hands them to `writeChunkedFile`. Optional, with
   * it: a writer without them gets the bytes through `writeFile`.
   */
  readonly pol?: Polynomial
  /**
   * `writeFile` for content cut with `pol` into chunks, each with its SHA-256 (`hashId`), in
   * order: stores the same file as `writeFile` of the chunks' bytes would.
   */
  writeChunkedFile?(
    path: string,
    chunks: AsyncIterable<HashedChunk>,
    opts?: { readonly mode?: number; readonly mtime?: Date; readonly signal?: AbortSignal },
  ): Promise<{ readonly size: number }>
}

export interface TreeEntry {
  readonly name: string
  readonly type: 'file' | 'dir' | 'symlink' | 'other'
  readonly size: number
}

/**
 * What a restore needs from a snapshot's tree: list a directory, stream a file. Paths as for
 * TreeWriter. A missing path rejects with NotFoundError; damaged data with IntegrityError
 * (never wrong bytes).
 */
export interface TreeReader {
  list(dir: string, opts?: { readonly signal?: AbortSignal }): Promise<readonly TreeEntry[]>
  readFile(path: string, opts?: { readonly signal?: AbortSignal }): AsyncIterable<Uint8Array>
  /** The file's node (its blob list), for TreeWriter.addFile. Optional, as there. */
  fileNode?(path: string, opts?: { readonly signal?: AbortSignal }): Promise<Node>
}

export interface Progress {
  readonly bytesDone: number
  readonly bytesTotal?: number
  readonly itemsDone: number
  readonly itemsTotal?: number
  readonly phase?: string
}

/** Passed to every driver call, last. */
export interface DriverContext {
  readonly signal: AbortSignal
  readonly log: Logger
  readonly now: () => Date
  readonly progress: (p: Progress) => void
}
