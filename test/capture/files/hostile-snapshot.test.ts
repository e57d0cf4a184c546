import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { restoreMount, type SwitchMode } from '../../../src/capture/index.js'
import { CofferError } from '../../../src/errors.js'
import {
  goTimeNow,
  RepoReader,
  SnapshotWriter,
  type Node,
  type Repository,
} from '../../../src/repo/index.js'
import { hashId } from '../../../src/repo/id.js'
import { encodeTree, type TreeId } from '../../../src/repo/tree/index.js'
import { createRepo } from '../../helpers/mount-repo.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

const SYMLINK = 2 ** 27
const DIR = 2 ** 31

/** Writes trees a careful writer would never produce; returns a builder for them. */
async function treeWriter(repo: Repository) {
  const writer = await SnapshotWriter.start(repo)
  const t = goTimeNow()
  const base = { mtime: t, atime: t, ctime: t, uid: 0, gid: 0 }
  return {
    base,
    async tree(nodes: Node[]): Promise<TreeId> {
      const bytes = encodeTree(nodes)
      const id = hashId<TreeId>(bytes)
      await writer.saver.save('tree', id, bytes)
      return id
    },
    async file(name: string, text: string): Promise<Node> {
      const saved = await writer.saveContent(
        (async function* () {
          yield Buffer.from(text)
        })(),
      )
      return {
        ...base,
        name: Buffer.from(name),
        type: 'file',
        mode: 0o644,
        size: saved.size,
        content: saved.content,
      }
    },
    link: (name: string, target: string): Node => ({
      ...base,
      name: Buffer.from(name),
      type: 'symlink',
      mode: SYMLINK + 0o777,
      linkTarget: Buffer.from(target),
      content: null,
    }),
    dir: (name: string, subtree: TreeId): Node => ({
      ...base,
      name: Buffer.from(name),
      type: 'dir',
      mode: DIR + 0o755,
      content: null,
      subtree,
    }),
    async done(): Promise<void> {
      await writer.saver.flush()
      await writer.abort()
    },
  }
}

const sorted = (nodes: Node[]): Node[] => nodes.sort((a, b) => Buffer.compare(a.name, b.name))

describe('staged restore of a hostile snapshot', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let reader: RepoReader
  let outside: string
  const trees: Record<string, TreeId> = {}

  beforeAll(async () => {
    tmp = await makeTempDir('files-hostile')
    outside = join(tmp.path, 'outside')
    await mkdir(outside)
    await writeFile(join(outside, 'keep.txt'), 'untouched')
    const repo = await createRepo(tmp.path)
    const w = await treeWriter(repo)
    const inner = await w.tree([await w.file('pwned', 'written through a symlink')])
    const fine = await w.file('fine.txt', 'a normal file')
    for (const [label, bad] of [
      ['dot-dot', await w.file('..', 'dot dot')],
      ['dot', await w.file('.', 'dot')],
      ['slash', await w.file('a/b', 'slash')],
      ['absolute', await w.file(join(outside, 'pwned'), 'absolute')],
      ['empty', await w.file('', 'empty')],
    ] as const)
      trees[label] = await w.tree(sorted([bad, fine]))
    // A symlink out of the target, then a directory of the same name with a file in it.
    trees['link-then-dir'] = await w.tree(
      sorted([w.link('evil', outside), w.dir('evil', inner), fine]),
    )
    // Safe but pointed: links with absolute and climbing targets are stored as links.
    trees['links'] = await w.tree(
      sorted([
        w.link('abs-link', outside),
        w.link('up-link', '../../outside'),
        w.dir('d', inner),
        fine,
      ]),
    )
    await w.done()
    reader = await RepoReader.open(repo)
  })
  afterAll(() => tmp.cleanup())

  const untouched = async (): Promise<void> => {
    expect(await readdir(outside)).toEqual(['keep.txt'])
    expect(await readFile(join(outside, 'keep.txt'), 'utf8')).toBe('untouched')
  }

  const cases = ['dot-dot', 'dot', 'slash', 'absolute', 'empty', 'link-then-dir'] as const
  it.each(cases)('refuses a snapshot with an unsafe name (%s), changing nothing', async (c) => {
    const target = join(tmp.path, `t-${c}`, 'mount')
    await mkdir(target, { recursive: true })
    await writeFile(join(target, 'old.txt'), 'old')
    const err = await restoreMount(reader, trees[c]!, target).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CofferError)
    expect((err as CofferError).code).toBe('restore_failed')
    expect((err as CofferError).message).toMatch(/unsafe or duplicate names.*nothing was changed/)
    await untouched()
    expect(await readdir(target)).toEqual(['old.txt'])
    expect(await readdir(join(target, '..'))).toEqual(['mount'])
  })

  it.each(['whole', 'per-file'] as const)(
    'restores links as links, never following them (%s)',
    async (switchMode: SwitchMode) => {
      const target = join(tmp.path, `links-${switchMode}`, 'mount')
      await restoreMount(reader, trees['links']!, target, { switchMode })
      await untouched()
      expect((await readdir(target)).sort()).toEqual(['abs-link', 'd', 'fine.txt', 'up-link'])
      expect(await readlink(join(target, 'abs-link'))).toBe(outside)
      expect(await readFile(join(target, 'd/pwned'), 'utf8')).toBe('written through a symlink')
      // Restoring again over the links changes nothing outside either.
      await restoreMount(reader, trees['links']!, target, { switchMode })
      await untouched()
    },
  )
})
