import { IntegrityError } from '../../errors.js'
import { handleName, type Backend, type Handle } from '../backend/index.js'
import { open, SEAL_OVERHEAD, type MasterKey } from '../crypto/index.js'
import type { PackId } from '../id.js'
import { decodePackHeader, type PackEntry } from './pack-header.js'

/** Bytes read from a pack's end in one go; most headers fit (restic reads eagerly too). */
const EAGER_TAIL = 64 * 1024

/**
 * Reads and verifies the header of a pack: its length field, the header's MAC, the entries,
 * and that the entries and header exactly fill the file. Any mismatch is an IntegrityError
 * naming the pack file.
 */
export async function readPackHeader(
  backend: Backend,
  key: MasterKey,
  packId: PackId,
  size: number,
  opts: { readonly allowCompressed: boolean; readonly signal?: AbortSignal },
): Promise<PackEntry[]> {
  const h: Handle = { type: 'data', name: packId }
  const file = handleName(h)
  if (size < 4 + SEAL_OVERHEAD) throw new IntegrityError(file, `file is too short (${size} bytes)`)
  const tailLen = Math.min(size, EAGER_TAIL)
  let tail = await backend.load(h, { offset: size - tailLen, length: tailLen, signal: opts.signal })
  const headerLen = tail.readUInt32LE(tail.length - 4)
  if (headerLen < SEAL_OVERHEAD || headerLen > size - 4) {
    throw new IntegrityError(file, `header length ${headerLen} does not fit a ${size}-byte file`)
  }
  if (headerLen + 4 > tail.length) {
    tail = await backend.load(h, {
      offset: size - 4 - headerLen,
      length: headerLen + 4,
      signal: opts.signal,
    })
  }
  const sealed = tail.subarray(tail.length - 4 - headerLen, tail.length - 4)
  const plain = open(key, sealed)
  if (!plain) throw new IntegrityError(file, 'its header fails authentication')
  let entries: PackEntry[]
  try {
    entries = decodePackHeader(plain, opts.allowCompressed)
  } catch (e) {
    throw new IntegrityError(file, (e as Error).message, { cause: e })
  }
  const blobBytes = entries.reduce((n, e) => n + e.length, 0)
  if (blobBytes + headerLen + 4 !== size) {
    throw new IntegrityError(
      file,
      `its header describes ${blobBytes + headerLen + 4} bytes but the file has ${size}`,
    )
  }
  return entries
}
