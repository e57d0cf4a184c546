import { closeSync, constants, openSync, readSync } from 'node:fs'
import { MIN_SIZE } from '../chunker/index.js'
import type { FileFailure } from './crypto-messages.js'

/**
 * Reads a small file whole on a worker thread: the file named `path` (one character per
 * byte), never through a symlink at its last component (O_NOFOLLOW, as the main thread's
 * reads). Returns its bytes; 'grew' when it holds more than `size`
 * bytes (the caller streams it instead, so that what is stored is what was read); or the
 * failure, with its code (ENOENT for a file gone since the walk, ELOOP, EACCES…).
 *
 * The buffer is one byte longer than `size`: a read that stops at `size` met the end (a
 * regular file's read is short only there), so most files take one read, not two.
 */
export function readSmallFile(
  path: string,
  size: number,
  into?: Buffer,
): { readonly data: Buffer } | 'grew' | { readonly failure: FileFailure } {
  let fd: number
  try {
    fd = openSync(Buffer.from(path, 'latin1'), constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (e) {
    return { failure: failureOf(e) }
  }
  try {
    const buf = into ? into.subarray(0, size + 1) : Buffer.allocUnsafeSlow(size + 1)
    if (buf.length !== size + 1) throw new Error(`readSmallFile: buffer too short for ${size}`)
    let got = 0
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null)
      if (n === 0) break
      got += n
      if (got > size) return 'grew'
      if (got === size) break
    }
    return { data: buf.subarray(0, got) }
  } catch (e) {
    return { failure: failureOf(e) }
  } finally {
    closeSync(fd)
  }
}

/**
 * Buffers for small files' bytes, reused: a fresh buffer per file (15,000 photos) made a
 * gigabyte of short-lived external memory, and V8 runs a full collection for every 64 MB
 * of it. Buffers given back are kept, up to a bound; each is big enough for any file read
 * whole (below the chunker's minimum size).
 */
export class ReadBuffers {
  private readonly free: Buffer[] = []

  constructor(
    private readonly capacity = MIN_SIZE + 1,
    private readonly keep = 16,
  ) {}

  /** A buffer of at least `length` bytes; a larger request than the capacity gets its own. */
  take(length: number): Buffer {
    if (length > this.capacity) return Buffer.allocUnsafeSlow(length)
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.capacity)
  }

  give(buf: Buffer): void {
    if (buf.length === this.capacity && this.free.length < this.keep) this.free.push(buf)
  }
}

function failureOf(e: unknown): FileFailure {
  const err = e as NodeJS.ErrnoException
  return { message: err.message, ...(err.code ? { code: err.code } : {}) }
}
