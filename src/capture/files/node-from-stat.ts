import type { BigIntStats } from 'node:fs'
import {
  goModeFromPosix,
  goTimeFromNs,
  type BlobId,
  type Node,
  type NodeType,
} from '../../repo/index.js'
import { groupName, userName } from './id-names.js'

const S_IFMT = 0o170000n
const TYPES: Record<string, NodeType> = {
  [String(0o100000)]: 'file',
  [String(0o040000)]: 'dir',
  [String(0o120000)]: 'symlink',
  [String(0o060000)]: 'dev',
  [String(0o020000)]: 'chardev',
  [String(0o010000)]: 'fifo',
  [String(0o140000)]: 'socket',
}

export function nodeType(st: BigIntStats): NodeType {
  return TYPES[String(st.mode & S_IFMT)] ?? 'irregular'
}

/**
 * A tree node from lstat, as restic's archiver builds it (internal/fs/node.go): Go file
 * mode, times with nanoseconds (atime set to mtime, as restic does by default so that
 * reading a file does not change its tree), owner IDs and names, inode and device ID (which
 * identify hard links on restore), size and link count for files.
 */
export function nodeFromStat(
  name: Uint8Array,
  st: BigIntStats,
  extra: { readonly linkTarget?: Uint8Array; readonly content?: readonly BlobId[] } = {},
): Node {
  const type = nodeType(st)
  const mtime = goTimeFromNs(st.mtimeNs)
  const uid = Number(st.uid)
  const gid = Number(st.gid)
  return {
    name,
    type,
    mode: goModeFromPosix(Number(st.mode)),
    mtime,
    atime: mtime,
    ctime: goTimeFromNs(st.ctimeNs),
    uid,
    gid,
    user: userName(uid),
    group: groupName(gid),
    inode: st.ino,
    deviceId: st.dev,
    ...(type === 'file' ? { size: Number(st.size) } : {}),
    ...(type !== 'dir' ? { links: Number(st.nlink) } : {}),
    ...(extra.linkTarget ? { linkTarget: extra.linkTarget } : {}),
    ...(type === 'dev' || type === 'chardev' ? { device: st.rdev } : {}),
    content: type === 'file' ? [...(extra.content ?? [])] : null,
  }
}
