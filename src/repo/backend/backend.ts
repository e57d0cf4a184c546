/**
 * Where repository files live. One implementation per kind of storage (local directory,
 * memory, S3-compatible); cross-cutting behaviour (retries, connection limits, fault
 * injection in tests) wraps a Backend and returns a Backend.
 *
 * Contract, for every implementation:
 * - Files are written once and never modified (design.rst, "Repository Format"). `save` is
 *   atomic: a reader sees the whole file or none of it, also after a crash mid-save. Saving a
 *   name that exists replaces it with the same content (names are content hashes), except
 *   `config`, which callers only write at init.
 * - Methods may be called concurrently; `connections` says how many calls in flight make sense.
 * - A missing file rejects with `BackendError` whose code is `not_found` (permanent). Other
 *   permanent failures (permission denied, no space) have `permanent: true` and are not
 *   retried; transient ones (timeouts, resets, 5xx) have `permanent: false`.
 * - Every call honours its `signal`: once aborted it rejects with `signal.reason` and leaves
 *   nothing half-written behind (a temporary file at most, never a visible one).
 */
export interface Backend {
  /** Where the repository is, for messages; never contains credentials. */
  readonly location: string
  /** How many concurrent calls the storage handles well. */
  readonly connections: number

  /** Creates the directory structure of a new repository; fails if `config` already exists. */
  create(opts?: CallOptions): Promise<void>
  save(h: Handle, data: Uint8Array | readonly Uint8Array[], opts?: CallOptions): Promise<void>
  /** Reads a whole file, or `length` bytes from `offset`. Short files reject, never truncate. */
  load(h: Handle, opts?: LoadOptions): Promise<Buffer>
  stat(h: Handle, opts?: CallOptions): Promise<FileInfo>
  /** Lists the files of one type; order is unspecified. */
  list(type: FileType, opts?: CallOptions): AsyncIterable<FileInfo>
  /** Removes a file; removing a missing file is not an error (idempotent). */
  remove(h: Handle, opts?: CallOptions): Promise<void>
  close(): Promise<void>
  /**
   * Present when packs may be written straight into the storage's filesystem (a local
   * directory): the crypto workers then write each pack's blobs to a file as they seal
   * them, instead of building it in memory (see PackSpool).
   */
  readonly spool?: PackSpool
}

/**
 * Files of packs being written, in a directory of the repository's own filesystem
 * (`<repo>/tmp`): a worker writes a pack there as its blobs are sealed, and `adopt` makes
 * the finished file a repository file as `save` would have (flushed to disk, renamed into
 * place, read-only). Files left by a killed process are never visible as repository files;
 * `clear` (under an exclusive lock: prune) removes them.
 */
export interface PackSpool {
  /** Where spooled files go; the workers create it when missing. */
  readonly dir: string
  /** The mode repository files are created with. */
  readonly fileMode: number
  /**
   * Makes a finished spooled file the repository file `h`; removes the spooled file if it
   * fails.
   */
  adopt(h: Handle, file: SpooledFile, opts?: CallOptions): Promise<void>
  /** Removes a spooled file that will not be adopted. */
  discard(file: SpooledFile): Promise<void>
  /** Removes every spooled file; returns how many. Only when nobody else writes. */
  clear(): Promise<number>
}

/**
 * A pack file a worker wrote into the spool and closed. (Descriptors do not cross threads:
 * a worker's runtime closes the descriptors it opened when it exits, whoever uses them.)
 */
export interface SpooledFile {
  readonly path: string
}

export const FILE_TYPES = ['config', 'keys', 'locks', 'snapshots', 'index', 'data'] as const
export type FileType = (typeof FILE_TYPES)[number]

/** A repository file: its type and name (the hex storage ID; `config` for the config file). */
export interface Handle {
  readonly type: FileType
  readonly name: string
}

export interface FileInfo {
  readonly name: string
  readonly size: number
}

export interface CallOptions {
  readonly signal?: AbortSignal
}

export interface LoadOptions extends CallOptions {
  readonly offset?: number
  readonly length?: number
  /**
   * Where to put the bytes: called with their length once it is known, returns a buffer of
   * exactly that length (one the caller reuses; fresh memory costs a page fault per 4 KiB,
   * 0.7 s for 270 MB on these machines). Backends that read into buffers of their own may
   * ignore it; the buffer returned is then another.
   */
  readonly into?: (length: number) => Buffer
}

/** `data/3f/3f2a…`, `snapshots/…`, `config`: how a file is named in messages. */
export function handleName(h: Handle): string {
  if (h.type === 'config') return 'config'
  if (h.type === 'data') return `data/${h.name.slice(0, 2)}/${h.name}`
  return `${h.type}/${h.name}`
}

export const CONFIG_HANDLE: Handle = { type: 'config', name: 'config' }
