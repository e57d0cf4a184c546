import type { CommandRunner } from './command-table.js'
import { openRepo } from '../repo-tools/repo-context.js'
import { out } from '../output.js'
import { snapshotJson } from '../repo-tools/snapshot-format.js'
import { NotFoundError } from '../../errors.js'
import {
  formatGoTime,
  posixPermFromGo,
  RepoReader,
  shortId,
  treePath,
  type Node,
  type TreePath,
} from '../../repo/index.js'

const text = (p: TreePath): string => '/' + p.map((c) => Buffer.from(c).toString('utf8')).join('/')

/** Go's FileMode.String() style permissions (`drwxr-xr-x`), as restic's ls --json prints. */
function permissions(n: Node): string {
  const t = {
    dir: 'd',
    symlink: 'L',
    dev: 'D',
    chardev: 'c',
    fifo: 'p',
    socket: 'S',
    file: '-',
    irregular: '?',
  }[n.type]
  const perm = posixPermFromGo(n.mode ?? 0)
  const rwx = 'rwxrwxrwx'
  let s = ''
  for (let i = 0; i < 9; i++) s += perm & (1 << (8 - i)) ? rwx[i] : '-'
  return t + s
}

export const run: CommandRunner = async (cmd, args) => {
  const [ref, dir] = args as [string, string | undefined]
  const o = cmd.opts<{ json?: boolean; host?: string[]; tag?: string[]; path?: string[] }>()
  const repo = await openRepo(cmd)
  const reader = await RepoReader.open(repo)
  const snap = await reader.findSnapshot(ref, {
    hosts: o.host ?? [],
    tags: o.tag ?? [],
    paths: o.path ?? [],
  })
  const prefix = dir ? treePath(dir) : []
  let root = snap.tree
  if (prefix.length > 0) {
    const sub = await reader.subtreeAt(snap.tree, prefix)
    if (!sub) {
      const node = await reader.lookup(snap.tree, prefix)
      if (!node) throw new NotFoundError(`No ${dir} in snapshot ${shortId(snap.id)}.`)
      print(prefix, node)
      return
    }
    root = sub
  }
  if (o.json)
    out(
      JSON.stringify({ ...snapshotJson(snap), struct_type: 'snapshot', message_type: 'snapshot' }),
    )
  else
    out(`snapshot ${shortId(snap.id)} of [${snap.paths.join(' ')}] at ${formatGoTime(snap.time)}:`)
  for await (const { path, node } of reader.walk(root, prefix)) print(path, node)

  function print(path: TreePath, node: Node): void {
    if (!o.json) {
      out(text(path))
      return
    }
    out(
      JSON.stringify({
        name: Buffer.from(node.name).toString('utf8'),
        type: node.type,
        path: text(path),
        uid: node.uid,
        gid: node.gid,
        ...(node.type === 'file' ? { size: node.size ?? 0 } : {}),
        mode: node.mode ?? 0,
        permissions: permissions(node),
        mtime: formatGoTime(node.mtime),
        atime: formatGoTime(node.atime),
        ctime: formatGoTime(node.ctime),
        ...(node.inode ? { inode: Number(node.inode) } : {}),
        struct_type: 'node',
        message_type: 'node',
      }),
    )
  }
}
