import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { goTimeNow, SnapshotWriter, type Node, type Repository } from '../../src/repo/index.js'
import { hashId } from '../../src/repo/id.js'
import { encodeTree, type TreeId } from '../../src/repo/tree/index.js'
import { encodeSnapshot } from '../../src/repo/snapshot.js'
import { runCoffer } from '../helpers/run-coffer.js'
import { useTestRepos } from '../helpers/test-repos.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const PASSWORD = 'hostile'
const repos = useTestRepos()

/**
 * Writes a snapshot whose trees a careful writer would never produce: names `..`, `.`,
 * `a/b`, an absolute-looking name, an empty name, a symlink pointing outside followed by a
 * directory of the same name holding a file, and a symlink with an absolute target.
 */
async function writeHostileSnapshot(repo: Repository, outside: string): Promise<void> {
  const writer = await SnapshotWriter.start(repo)
  const t = goTimeNow()
  const base = { mtime: t, atime: t, ctime: t, uid: 0, gid: 0 }
  const saveTree = async (nodes: Node[]): Promise<TreeId> => {
    const bytes = encodeTree(nodes)
    const id = hashId<TreeId>(bytes)
    await writer.saver.save('tree', id, bytes)
    return id
  }
  const file = async (name: string | Uint8Array, text: string): Promise<Node> => {
    const saved = await writer.saveContent(
      (async function* () {
        yield Buffer.from(text)
      })(),
    )
    return {
      ...base,
      name: typeof name === 'string' ? Buffer.from(name) : name,
      type: 'file',
      mode: 0o644,
      size: saved.size,
      content: saved.content,
    }
  }
  const escapeTarget = join(outside, 'pwned')
  const inner = await saveTree([await file('pwned', 'written through a symlink')])
  const root = await saveTree(
    (<Node[]>[
      await file('..', 'dot dot'),
      await file('.', 'dot'),
      await file('a/b', 'slash'),
      await file(escapeTarget, 'absolute'),
      await file('', 'empty'),
      {
        ...base,
        name: Buffer.from('evil'),
        type: 'symlink',
        mode: 2 ** 27 + 0o777,
        linkTarget: Buffer.from(outside),
        content: null,
      },
      {
        ...base,
        name: Buffer.from('evil'),
        type: 'dir',
        mode: 2 ** 31 + 0o755,
        content: null,
        subtree: inner,
      },
      {
        ...base,
        name: Buffer.from('abs-link'),
        type: 'symlink',
        mode: 2 ** 27 + 0o777,
        linkTarget: Buffer.from('/etc/passwd'),
        content: null,
      },
      await file('fine.txt', 'a normal file'),
    ]).sort((a, b) => Buffer.compare(a.name, b.name)),
  )
  await writer.saver.flush()
  await repo.store.saveUnpacked(
    'snapshots',
    encodeSnapshot({ time: t, tree: root, paths: ['/hostile'], hostname: 'attacker' }),
  )
  await writer.abort()
}

describe('restoring a hostile snapshot', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repoAt: string
  let outside: string

  beforeAll(async () => {
    tmp = await makeTempDir('hostile')
    repoAt = repos.location(tmp.path, 'hostile')
    outside = join(tmp.path, 'outside')
    await mkdir(outside)
    await writeFile(join(outside, 'keep.txt'), 'untouched')
    const repo = await repos.init(repoAt, PASSWORD)
    await writeHostileSnapshot(repo, outside)
  })
  afterAll(() => tmp.cleanup())

  it('writes nothing outside the target and says which names it refused', async () => {
    const target = join(tmp.path, 'target', 'inner')
    const r = await runCoffer(['repo:restore', '--repo', repoAt, 'latest', '--target', target], {
      env: { COFFER_PASSWORD: PASSWORD },
    })
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('unsafe name')
    expect(await readdir(outside)).toEqual(['keep.txt'])
    expect(await readFile(join(outside, 'keep.txt'), 'utf8')).toBe('untouched')
    expect((await readdir(join(tmp.path, 'target'))).sort()).toEqual(['inner'])
    // What is safe was restored: the normal file, the symlinks as links (never followed),
    // and the directory that replaced the symlink of the same name.
    expect(await readFile(join(target, 'fine.txt'), 'utf8')).toBe('a normal file')
    expect((await readdir(target)).sort()).toEqual(['abs-link', 'evil', 'fine.txt'])
    expect(await readFile(join(target, 'evil', 'pwned'), 'utf8')).toBe('written through a symlink')
  })
})
