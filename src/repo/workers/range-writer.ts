import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs'
import { Scratch } from '../../lib/index.js'
import { openBlob, OpenScratch, type BlobDamage } from '../blob-codec.js'
import type { MasterKey } from '../crypto/index.js'
import type { RangeSource, RangeWritten, SealedTarget, FileFailure } from './crypto-messages.js'

/**
 * Opens each blob of a range of a pack and writes its plaintext into every file that lists
 * it, at its position: a restore's whole path from stored bytes to files on one worker
 * thread, with nothing sent back but the outcome (null per written blob, or its damage).
 *
 * A local pack is read here into a buffer the worker keeps (a fresh buffer for every range
 * cost a page fault per 4 KiB of it), and blobs are opened into others; other ranges arrive
 * as transferred bytes.
 * A range that cannot be read is reported `unread` (the caller loads its blobs one by one,
 * from any copy); a file that cannot be written is reported `writeFailed` and ends there.
 * Target files exist already, opened with O_NOFOLLOW, except those a target says to create:
 * a file whose only blob this is is created by its write (O_CREAT|O_EXCL|O_NOFOLLOW, 0600:
 * never over anything), which spares the main thread a creation and a second open per file.
 */
export class RangeWriter {
  /** The local pack's range being written. */
  private readonly packBytes = new Scratch()
  /** The blob being written. */
  private readonly plain = new OpenScratch()

  constructor(private readonly key: MasterKey) {}

  write(source: RangeSource, blobs: readonly SealedTarget[]): RangeWritten {
    let sealed: Uint8Array
    if ('sealed' in source) sealed = source.sealed
    else {
      const read = this.read(source.file, source.offset, source.length)
      if (typeof read === 'string') return { unread: read }
      sealed = read
    }
    const fds = new Map<string, number>()
    const results: (BlobDamage | null)[] = []
    try {
      for (const b of blobs) {
        const plain = openBlob(
          this.key,
          sealed.subarray(b.offset, b.offset + b.length),
          b.id,
          b.uncompressedLength,
          this.plain,
        )
        if (typeof plain === 'string') {
          results.push(plain)
          continue
        }
        for (const t of b.targets) {
          const failed = writeAt(fds, t.path, plain, t.position, t.create === true)
          if (failed) return { writeFailed: failed }
        }
        results.push(null)
      }
    } finally {
      for (const fd of fds.values()) closeSync(fd)
    }
    return { results }
  }

  private read(file: string, offset: number, length: number): Buffer | string {
    return readRange(file, offset, length, this.packBytes)
  }
}

/**
 * Reads `length` bytes at `offset` of a local pack file into `scratch` (reused: a fresh
 * buffer per pack cost a page fault per 4 KiB of it); returns them, or what went wrong.
 */
export function readRange(
  file: string,
  offset: number,
  length: number,
  scratch: Scratch,
): Buffer | string {
  const into = scratch.take(length)
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY)
  } catch (e) {
    return (e as Error).message
  }
  try {
    for (let got = 0; got < length;) {
      const n = readSync(fd, into, got, length - got, offset + got)
      if (n === 0) return `the pack is shorter than expected (wanted ${offset + length} bytes)`
      got += n
    }
    return into
  } catch (e) {
    return (e as Error).message
  } finally {
    closeSync(fd)
  }
}

const WRITE_FLAGS = constants.O_WRONLY | constants.O_NOFOLLOW
const CREATE_FLAGS = WRITE_FLAGS | constants.O_CREAT | constants.O_EXCL

/**
 * Writes `data` at `position` of the file named `path` (latin1), opened once per range;
 * created first when `create`.
 */
function writeAt(
  fds: Map<string, number>,
  path: string,
  data: Uint8Array,
  position: number,
  create: boolean,
): FileFailure | undefined {
  try {
    let fd = fds.get(path)
    if (fd === undefined) {
      fd = openSync(Buffer.from(path, 'latin1'), create ? CREATE_FLAGS : WRITE_FLAGS, 0o600)
      fds.set(path, fd)
    }
    for (let off = 0; off < data.length;) {
      off += writeSync(fd, data, off, data.length - off, position + off)
    }
    return undefined
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    return { message: err.message, ...(err.code ? { code: err.code } : {}) }
  }
}
