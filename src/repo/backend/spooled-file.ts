import { readFile, rm } from 'node:fs/promises'
import type { SpooledFile } from './backend.js'

/**
 * The bytes of a spooled file of `size` bytes (a worker's last, partial pack, whose blobs go
 * into the backup's last pack); the file is removed, whatever happens.
 */
export async function readSpooledFile(file: SpooledFile, size: number): Promise<Buffer> {
  try {
    const data = await readFile(file.path)
    if (data.length !== size)
      throw new Error(`The pack file ${file.path} holds ${data.length} bytes, not ${size}.`)
    return data
  } finally {
    await discardSpooled(file)
  }
}

/** Removes a spooled file that will not be kept. */
export async function discardSpooled(file: SpooledFile): Promise<void> {
  await rm(file.path, { force: true }).catch(() => undefined)
}
