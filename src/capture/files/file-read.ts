import { constants } from 'node:fs'
import { open } from 'node:fs/promises'

/** Files below this size are read in one call: they are one chunk anyway. */
const SMALL_FILE = 512 * 1024
/**
 * A large file's reads: just under 1 MiB, so that with glibc's mmap threshold fixed at 1 MiB
 * (bin/coffer) each read buffer comes from the allocator's free memory instead of being mapped
 * and unmapped (about 50,000 more page faults over the mounts data set's first capture).
 */
const READ_SIZE = 1024 * 1024 - 4096

/**
 * Streams a file's bytes, counting them through `onBytes`. Small files take one read; a file that grew past its stat size goes on streaming, so what is
 * stored is what was read. Never follows a symlink at the last component (O_NOFOLLOW):
 * a file replaced by a link between stat and open fails with ELOOP instead of being read
 * through the link.
 */
export async function* readFileChunks(
  p: Buffer,
  size: bigint,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const fh = await open(p, constants.O_RDONLY | constants.O_NOFOLLOW)
  try {
    if (size < SMALL_FILE) {
      // One byte more than the size: a read that stops at exactly the size met the end (a
      // regular file's read is short only there), so most files take one read, not two.
      const buf = Buffer.allocUnsafeSlow(Number(size) + 1)
      let got = 0
      for (;;) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, null)
        if (bytesRead === 0) break
        got += bytesRead
        onBytes(bytesRead)
        if (got === buf.length) {
          // Grew while being read: stream the rest.
          yield buf.subarray(0, got)
          yield* readRest(fh, onBytes, signal)
          return
        }
        if (got === Number(size)) break
      }
      if (got > 0) yield buf.subarray(0, got)
      return
    }
    yield* readRest(fh, onBytes, signal)
  } finally {
    await fh.close()
  }
}

async function* readRest(
  fh: Awaited<ReturnType<typeof open>>,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  for (;;) {
    signal?.throwIfAborted()
    const buf = Buffer.allocUnsafeSlow(READ_SIZE)
    const { bytesRead } = await fh.read(buf, 0, READ_SIZE, null)
    if (bytesRead === 0) return
    onBytes(bytesRead)
    yield buf.subarray(0, bytesRead)
  }
}
