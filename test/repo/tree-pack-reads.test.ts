import { open as openFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IntegrityError } from '../../src/errors.js'
import {
  LocalBackend,
  Repository,
  RepoReader,
  SnapshotWriter,
  TEST_KDF,
  type Handle,
  type LoadOptions,
  type Node,
  type TreeId,
} from '../../src/repo/index.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const DIRS = 40
const PASSWORD = 'tree-spans'

/** The local backend, counting loads of data files (still local: no read merging). */
class CountingLocal extends LocalBackend {
  loads = 0
  override load(h: Handle, opts?: LoadOptions): Promise<Buffer> {
    if (h.type === 'data') this.loads++
    return super.load(h, opts)
  }
}

let tmp: Awaited<ReturnType<typeof makeTempDir>>
let root: TreeId

beforeAll(async () => {
  tmp = await makeTempDir('tree-spans')
  const repo = await Repository.init({
    backend: new LocalBackend(tmp.path),
    password: PASSWORD,
    kdf: TEST_KDF,
  })
  const w = await SnapshotWriter.start(repo)
  for (let i = 0; i < DIRS; i++) {
    for (const sub of ['a', 'b'])
      await w.writeFile(
        `d${String(i).padStart(2, '0')}/${sub}/f.txt`,
        (async function* () {
          yield Buffer.from(`file ${i} ${sub}`)
        })(),
      )
  }
  root = (await w.commit({ paths: ['/'], hostname: 'h' })).tree
  await repo.close()
})
afterAll(() => tmp.cleanup())

const readers: RepoReader[] = []
afterAll(() => Promise.all(readers.map((r) => r.repo.close())))

async function openReader(backend: CountingLocal, treeSpanBytes?: number): Promise<RepoReader> {
  const repo = await Repository.open({ backend, password: PASSWORD })
  const reader = await RepoReader.open(repo, undefined, {
    treeReadAhead: true,
    ...(treeSpanBytes === undefined ? {} : { treeSpanBytes }),
  })
  readers.push(reader)
  return reader
}

/** Every path and node of the snapshot, in walk order. */
async function walkAll(reader: RepoReader): Promise<[string, Node][]> {
  const out: [string, Node][] = []
  for await (const { path, node } of reader.walk(root)) out.push([path.join('/'), node])
  return out
}

/** The packs holding the snapshot's trees. */
function treePacks(reader: RepoReader): Set<string> {
  const packs = new Set<string>()
  for (const [id, entries] of reader.index.packs())
    if (entries.some((e) => e.type === 'tree')) packs.add(id)
  return packs
}

describe('tree blobs read a pack at a time', () => {
  it('reads each tree pack once for a whole walk, and walks as reading tree by tree does', async () => {
    const spans = new CountingLocal(tmp.path)
    const single = new CountingLocal(tmp.path)
    const a = await walkAll(await openReader(spans))
    const b = await walkAll(await openReader(single, 0))
    expect(a).toEqual(b)
    expect(a).toHaveLength(DIRS * 5)
    const packs = treePacks(await openReader(new CountingLocal(tmp.path)))
    // 1 root + 40 directories + 80 subdirectories: one load per pack, against 121.
    expect(spans.loads).toBe(packs.size)
    expect(single.loads).toBe(1 + DIRS * 3)
  })

  it('keeps within its budget: a span larger than the budget is read tree by tree', async () => {
    const backend = new CountingLocal(tmp.path)
    const reader = await openReader(backend, 64)
    expect(await walkAll(reader)).toHaveLength(DIRS * 5)
    expect(backend.loads).toBe(1 + DIRS * 3)
  })

  it('names a damaged tree of a span and still reads the others of its pack', async () => {
    const probe = await openReader(new CountingLocal(tmp.path))
    const top = await probe.loadTree(root)
    const victim = top[7]!.subtree!
    const loc = probe.index.lookup('tree', victim)!
    const file = join(tmp.path, 'data', loc.packId.slice(0, 2), loc.packId)
    const fh = await openFile(file, 'r+')
    const byte = Buffer.alloc(1)
    try {
      await fh.read(byte, 0, 1, loc.offset + 20)
      await fh.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, loc.offset + 20)
      const reader = await openReader(new CountingLocal(tmp.path))
      const err = await reader.loadTree(victim).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(IntegrityError)
      expect((err as Error).message).toContain(`tree blob ${victim.slice(0, 8)}`)
      expect((err as Error).message).toContain(loc.packId)
      for (const [i, n] of top.entries())
        if (i !== 7) expect(await reader.loadTree(n.subtree!)).toHaveLength(2)
    } finally {
      await fh.write(byte, 0, 1, loc.offset + 20)
      await fh.close()
    }
  })
})
