import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  LocalBackend,
  Repository,
  RepoReader,
  SnapshotWriter,
  TEST_KDF,
  TreeCache,
  goTimeFromNs,
  hashId,
  type Node,
  type TreeId,
} from '../../src/repo/index.js'
import { LoadCountingBackend } from '../helpers/load-counting-backend.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const PASSWORD = 'tree-cache'

/** A tree ID (the hash of its name). */
const tid = (name: string): TreeId => hashId(Buffer.from(name))

const nodes = (n: number): Node[] =>
  Array.from({ length: n }, (_, i) => ({
    name: Buffer.from(`n${i}`),
    type: 'file' as const,
    mtime: goTimeFromNs(0n),
    atime: goTimeFromNs(0n),
    ctime: goTimeFromNs(0n),
    uid: 0,
    gid: 0,
    content: [],
  }))

describe('TreeCache', () => {
  it('keeps trees up to its number of nodes, dropping the least recently used first', () => {
    const c = new TreeCache(10)
    const a = nodes(4)
    const b = nodes(4)
    c.set('r', tid('a'), a)
    c.set('r', tid('b'), b)
    expect(c.get('r', tid('a'))).toBe(a) // a is now the most recently used
    c.set('r', tid('c'), nodes(4)) // 12 nodes: b goes
    expect(c.get('r', tid('b'))).toBeUndefined()
    expect(c.get('r', tid('a'))).toBe(a)
    expect(c.get('r', tid('c'))).toHaveLength(4)
    expect(c.size).toEqual({ trees: 2, nodes: 8 })
  })

  it('keys trees by repository, and never keeps a tree larger than itself', () => {
    const c = new TreeCache(10)
    c.set('r1', tid('t'), nodes(2))
    expect(c.get('r2', tid('t'))).toBeUndefined()
    c.set('r1', tid('big'), nodes(11))
    expect(c.get('r1', tid('big'))).toBeUndefined()
    expect(c.size).toEqual({ trees: 1, nodes: 2 })
  })
})

describe('a repository opened again with the same TreeCache (as the server opens it)', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let root: TreeId

  beforeAll(async () => {
    tmp = await makeTempDir('tree-cache')
    const repo = await Repository.init({
      backend: new LocalBackend(tmp.path),
      password: PASSWORD,
      kdf: TEST_KDF,
    })
    const w = await SnapshotWriter.start(repo)
    for (let i = 0; i < 6; i++)
      await w.writeFile(
        `d${i}/f.txt`,
        (async function* () {
          yield Buffer.from(`file ${i}`)
        })(),
      )
    root = (await w.commit({ paths: ['/'], hostname: 'h' })).tree
    await repo.close()
  })
  afterAll(() => tmp.cleanup())

  const walk = async (reader: RepoReader): Promise<string[]> => {
    const out: string[] = []
    for await (const { path } of reader.walk(root)) out.push(path.map(String).join('/'))
    return out
  }
  const open = async (trees: TreeCache | undefined): Promise<[RepoReader, LoadCountingBackend]> => {
    const backend = new LoadCountingBackend(new LocalBackend(tmp.path))
    const repo = await Repository.open({ backend, password: PASSWORD, ...(trees ? { trees } : {}) })
    return [await RepoReader.open(repo), backend]
  }

  it('reads each tree once: the next opens walk the snapshot without loading a tree blob', async () => {
    const trees = new TreeCache()
    const [first, firstBackend] = await open(trees)
    const listed = await walk(first)
    expect(listed).toContain('d5/f.txt')
    expect(firstBackend.loads.length).toBeGreaterThan(0)
    expect(trees.size.trees).toBe(7) // the root and its six directories

    const [again, againBackend] = await open(trees)
    expect(await walk(again)).toEqual(listed)
    expect(againBackend.loads).toEqual([])

    // Without the cache, an open reads the trees again.
    const [plain, plainBackend] = await open(undefined)
    expect(await walk(plain)).toEqual(listed)
    expect(plainBackend.loads.length).toBe(firstBackend.loads.length)
  })

  it('serves no tree to another repository that names the same tree ID', async () => {
    const trees = new TreeCache()
    const [first] = await open(trees)
    await walk(first)
    const other = await makeTempDir('tree-cache-other')
    try {
      const repo = await Repository.init({
        backend: new LocalBackend(other.path),
        password: PASSWORD,
        kdf: TEST_KDF,
        trees,
      })
      await expect(RepoReader.open(repo).then((r) => r.loadTree(root))).rejects.toThrow()
      await repo.close()
    } finally {
      await other.cleanup()
    }
  })
})
