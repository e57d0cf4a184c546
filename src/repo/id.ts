import { createHash } from 'node:crypto'
import { InvalidInputError } from '../errors.js'

/**
 * Storage IDs: the lower-case hex SHA-256 of a file's or a blob's plaintext (design.rst,
 * "Repository Format"). Each kind gets its own brand so that a pack ID cannot be passed where
 * a snapshot ID is expected; they are cast only here.
 */
declare const brand: unique symbol
type Branded<K extends string> = string & { readonly [brand]: K }

export type BlobId = Branded<'blob'>
export type PackId = Branded<'pack'>
export type IndexId = Branded<'index'>
export type SnapshotId = Branded<'snapshot'>
export type KeyId = Branded<'key'>
export type LockId = Branded<'lock'>
/** Any storage ID, before it is known what it names. */
export type AnyId = BlobId | PackId | IndexId | SnapshotId | KeyId | LockId

const HEX64 = /^[0-9a-f]{64}$/

/** SHA-256 of `data` as a storage ID of the wanted kind. */
export function hashId<T extends AnyId>(data: Uint8Array): T {
  return createHash('sha256').update(data).digest('hex') as T
}

/** Parses a full 64-hex-digit ID; `what` names the input for the error. */
export function parseId<T extends AnyId>(s: string, what = 'ID'): T {
  if (!HEX64.test(s)) throw new InvalidInputError(what, `Invalid ${what} "${s.slice(0, 80)}".`)
  return s as T
}

/** True when `s` is a full 64-hex-digit ID. */
export function isId(s: string): boolean {
  return HEX64.test(s)
}

/** The 8-hex-digit display form (restic's `ID.Str()`). */
export function shortId(id: string): string {
  return id.slice(0, 8)
}

/** Binary form of an ID (32 bytes), as pack headers store it. */
export function idToBytes(id: AnyId): Buffer {
  return Buffer.from(id, 'hex')
}

/** Hex form of 32 bytes read from a pack header. */
export function idFromBytes<T extends AnyId>(bytes: Uint8Array): T {
  return Buffer.from(bytes.buffer, bytes.byteOffset, 32).toString('hex') as T
}
