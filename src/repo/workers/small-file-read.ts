import { closeSync, constants, openSync, readSync } from 'node:fs'
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
): { readonly data: Buffer } | 'grew' | { readonly failure: FileFailure } {
  let fd: number
  try {
    fd = openSync(Buffer.from(path, 'latin1'), constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (e) {
    return { failure: failureOf(e) }
  }
  try {
    const buf = Buffer.allocUnsafeSlow(size + 1)
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

function failureOf(e: unknown): FileFailure {
  const err = e as NodeJS.ErrnoException
  return { message: err.message, ...(err.code ? { code: err.code } : {}) }
}
