import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
import { LoadCountingBackend } from '../helpers/load-counting-backend.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const DIRS = 24
const PASSWORD = 'read-ahead'

/**
 * The real local backend with a gate on loads of data files (where tree blobs live): once
 * `passes` loads went through, loads wait until `open_`; `requested` counts every data load,
 * `heldRanges` are the pack ranges of the loads waiting.
 */
class GatedBackend extends LoadCountingBackend {
  requested = 0
  passes = Infinity
  private waiting: (() => void)[] = []
  readonly heldRanges: { name: string; offset: number; end: number }[] = []

  open_(): void {
    this.passes = Infinity
    this.heldRanges.splice(0)
    for (const w of this.waiting.splice(0)) w()
  }
  get held(): number {
    return this.waiting.length
  }
  protected override async beforeLoad(h: Handle, opts?: LoadOptions): Promise<void> {
    this.requested++
    if (this.passes-- <= 0) {
      const offset = opts?.offset ?? 0
      this.heldRanges.push({ name: h.name, offset, end: offset + (opts?.length ?? Infinity) })
      await new Promise<void>((resolve) => this.waiting.push(resolve))
    }
  }
}

let tmp: Awaited<ReturnType<typeof makeTempDir>>
let root: TreeId

beforeAll(async () => {
  tmp = await makeTempDir('read-ahead')
  const repo = await Repository.init({
    backend: new LocalBackend(tmp.path),
    password: PASSWORD,
    kdf: TEST_KDF,
  })
  const w = await SnapshotWriter.start(repo)
  for (let i = 0; i < DIRS; i++) {
    await w.writeFile(
      `d${String(i).padStart(2, '0')}/f.txt`,
      (async function* () {
        yield Buffer.from(`file ${i}`)
      })(),
    )
  }
  root = (await w.commit({ paths: ['/'], hostname: 'h' })).tree
  await repo.close()
})
afterAll(() => tmp.cleanup())

async function openReader(backend: GatedBackend, treeReadAhead: boolean): Promise<RepoReader> {
  const repo = await Repository.open({ backend, password: PASSWORD })
  // Trees one by one, as from a repository whose trees are spread over many packs (read
  // ahead is what overlaps their reads; a pack's trees are otherwise read in one go).
  return RepoReader.open(repo, undefined, { treeReadAhead, treeSpanBytes: 0 })
}

const names = (nodes: readonly Node[]): string[] => nodes.map((n) => n.name.toString())

/** Which of `trees` the loads held at the gate read (reads of neighbouring blobs merge). */
function heldTrees(backend: GatedBackend, reader: RepoReader, trees: readonly TreeId[]): TreeId[] {
  return trees.filter((id) => {
    const loc = reader.index.lookup('tree', id)!
    return backend.heldRanges.some(
      (r) => r.name === loc.packId && r.offset <= loc.offset && loc.offset + loc.length <= r.end,
    )
  })
}

describe('RepoReader tree read-ahead', () => {
  it("loads a directory's subtrees before the walker asks, each once", async () => {
    const backend = new GatedBackend(new LocalBackend(tmp.path))
    const reader = await openReader(backend, true)
    backend.passes = 1 // the root tree's load
    const top = await reader.loadTree(root)
    expect(top).toHaveLength(DIRS)
    // Nobody asked for a subtree yet: the loads waiting at the gate are the read-ahead's,
    // for as many subtrees as it allows at once, the first in name order.
    const subtrees = top.map((n) => n.subtree!)
    await expect.poll(() => heldTrees(backend, reader, subtrees)).toEqual(subtrees.slice(0, 16))
    backend.open_()
    const before = backend.requested
    const seen: string[] = []
    for (const n of top) seen.push(...names(await reader.loadTree(n.subtree!)))
    expect(seen).toEqual(Array.from({ length: DIRS }, () => 'f.txt'))
    // The 16 read ahead were not loaded again; the others once each.
    expect(backend.requested - before).toBe(DIRS - 16)
    await reader.repo.close()
  })

  it('reads nothing ahead when off (single-path readers)', async () => {
    const backend = new GatedBackend(new LocalBackend(tmp.path))
    const reader = await openReader(backend, false)
    const top = await reader.loadTree(root)
    const before = backend.requested
    for (const n of top) await reader.loadTree(n.subtree!)
    expect(backend.requested - before).toBe(DIRS)
    await reader.repo.close()
  })
})
