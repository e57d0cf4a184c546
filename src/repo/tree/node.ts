import type { BlobId } from '../id.js'
import type { GoTime } from '../go/index.js'

export const NODE_TYPES = [
  'file',
  'dir',
  'symlink',
  'dev',
  'chardev',
  'fifo',
  'socket',
  'irregular',
] as const
export type NodeType = (typeof NODE_TYPES)[number]

/** A tree blob's ID: the ID of the blob holding the tree's JSON. */
export type TreeId = BlobId

export interface ExtendedAttribute {
  readonly name: string
  readonly value: Uint8Array
}

/**
 * One entry of a tree (restic's `data.Node`, internal/data/node.go). Names and symlink
 * targets are raw bytes: Linux allows any bytes but `/` and NUL in a name, and restic keeps
 * them exactly (names Go-quoted, targets in `linktarget_raw` when not UTF-8). `mode` is a Go
 * FileMode (see file-mode.ts). 64-bit fields (inode, device IDs) are bigint.
 */
export interface Node {
  readonly name: Uint8Array
  readonly type: NodeType
  readonly mode?: number
  readonly mtime: GoTime
  readonly atime: GoTime
  readonly ctime: GoTime
  readonly uid: number
  readonly gid: number
  readonly user?: string
  readonly group?: string
  readonly inode?: bigint
  readonly deviceId?: bigint
  readonly size?: number
  readonly links?: number
  readonly linkTarget?: Uint8Array
  readonly extendedAttributes?: readonly ExtendedAttribute[]
  /** OS-specific attributes restic writes on Windows; kept verbatim (raw JSON values). */
  readonly genericAttributes?: Readonly<Record<string, unknown>>
  /** st_rdev of a device node. */
  readonly device?: bigint
  /** Data blobs of a file, in order; null for everything that is not a file. */
  readonly content: readonly BlobId[] | null
  readonly subtree?: TreeId
  readonly error?: string
}

/** The node name as text, for messages and paths (invalid UTF-8 shown with U+FFFD). */
export function nodeNameText(n: Pick<Node, 'name'>): string {
  return Buffer.from(n.name.buffer, n.name.byteOffset, n.name.length).toString('utf8')
}
