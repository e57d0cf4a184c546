import { lstat, readdir, readFile, readlink } from 'node:fs/promises'
import { createHash } from 'node:crypto'

/** One entry of a directory listing used to compare trees exactly. */
export interface Entry {
  readonly path: string
  readonly type: 'file' | 'dir' | 'symlink' | 'other'
  readonly mode: number
  /** mtime in microseconds: restores set times through doubles (sub-µs is lost). */
  readonly mtimeUs: bigint
  readonly size?: number
  readonly sha256?: string
  readonly target?: string
  /** Index of the hard-link group (entries sharing an inode), when nlink > 1. */
  readonly linkGroup?: number
}

/**
 * Describes a directory tree for comparison: every entry's relative path (names as hex when
 * they are not valid UTF-8), type, permission bits, mtime, content hash, link target, and
 * which entries are hard links of each other. Directory mtimes are included.
 */
export async function describeTree(
  root: string,
  opts: { mtimes?: boolean } = {},
): Promise<Entry[]> {
  const entries: Entry[] = []
  const inodes = new Map<string, number>()
  const visit = async (dir: Buffer, rel: string): Promise<void> => {
    const names = (await readdir(dir, { encoding: 'buffer' })).sort((a, b) => Buffer.compare(a, b))
    for (const name of names) {
      const p = Buffer.concat([dir, Buffer.from('/'), name])
      const text = isUtf8(name) ? name.toString('utf8') : `hex:${name.toString('hex')}`
      const r = rel ? `${rel}/${text}` : text
      const st = await lstat(p, { bigint: true })
      const mtimeUs = opts.mtimes === false ? 0n : st.mtimeNs / 1000n
      const mode = Number(st.mode & 0o7777n)
      if (st.isDirectory()) {
        entries.push({ path: r, type: 'dir', mode, mtimeUs: 0n })
        await visit(p, r)
        entries.push({ path: `${r}/.`, type: 'dir', mode, mtimeUs })
      } else if (st.isSymbolicLink()) {
        entries.push({
          path: r,
          type: 'symlink',
          mode: 0,
          mtimeUs,
          target: (await readlink(p, { encoding: 'buffer' })).toString('hex'),
        })
      } else if (st.isFile()) {
        let linkGroup: number | undefined
        if (st.nlink > 1n) {
          const k = `${st.dev}:${st.ino}`
          if (!inodes.has(k)) inodes.set(k, inodes.size)
          linkGroup = inodes.get(k)
        }
        const data = await readFile(p)
        entries.push({
          path: r,
          type: 'file',
          mode,
          mtimeUs,
          size: data.length,
          sha256: createHash('sha256').update(data).digest('hex'),
          ...(linkGroup !== undefined ? { linkGroup } : {}),
        })
      } else {
        entries.push({ path: r, type: 'other', mode, mtimeUs })
      }
    }
  }
  await visit(Buffer.from(root), '')
  return entries
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
function isUtf8(b: Uint8Array): boolean {
  try {
    utf8.decode(b)
    return true
  } catch {
    return false
  }
}

/**
 * Compares two tree descriptions: everything exactly, mtimes within `mtimeSlackUs`. Node can
 * set times only through doubles (about 0.25 µs resolution today), so a restore by Coffer
 * lands within a microsecond of the original; restic sets nanoseconds exactly.
 */
export function diffTrees(
  actual: readonly Entry[],
  expected: readonly Entry[],
  opts: { mtimeSlackUs?: bigint; ignore?: (path: string) => boolean } = {},
): string[] {
  const slack = opts.mtimeSlackUs ?? 0n
  const keep = (e: Entry): boolean => !opts.ignore?.(e.path)
  const a = actual.filter(keep)
  const b = expected.filter(keep)
  const problems: string[] = []
  const byPath = new Map(a.map((e) => [e.path, e]))
  for (const e of b) {
    const got = byPath.get(e.path)
    if (!got) {
      problems.push(`missing ${e.path}`)
      continue
    }
    byPath.delete(e.path)
    const { mtimeUs: m1, ...rest1 } = got
    const { mtimeUs: m2, ...rest2 } = e
    if (JSON.stringify(rest1) !== JSON.stringify(rest2))
      problems.push(`differs ${e.path}: ${JSON.stringify(rest1)} != ${JSON.stringify(rest2)}`)
    const d = m1 > m2 ? m1 - m2 : m2 - m1
    if (d > slack) problems.push(`mtime of ${e.path} differs by ${d} µs`)
  }
  for (const p of byPath.keys()) problems.push(`unexpected ${p}`)
  return problems
}
