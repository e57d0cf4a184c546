import { getEventListeners } from 'node:events'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BackendError, IntegrityError } from '../../src/errors.js'
import type { RepoReader } from '../../src/repo/index.js'
import {
  LocalBackend,
  Repository,
  SnapshotWriter,
  TEST_KDF,
  type Backend,
  type BlobId,
  type Handle,
  type LoadOptions,
} from '../../src/repo/index.js'
import { hashId } from '../../src/repo/id.js'
import { planPackReads } from '../../src/repo/pack-read-coalescer.js'
import type { BlobLocation } from '../../src/repo/pack/index.js'
import { FaultyBackend } from '../helpers/faulty-backend.js'
import { LoadCountingBackend, readerOpener } from '../helpers/load-counting-backend.js'
import { seededBytes } from '../helpers/seeded-bytes.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const PASSWORD = 'coalesce'
/** Files of one small blob each (opened on the main thread), written into one pack. */
const SMALL = 40
/** Files of one blob above the inline limit (opened on the worker threads), same pack. */
const LARGE = 4
/** Files written by a later backup, so into another pack. */
const OTHER = 6

/**
 * The real local backend, recording every load of a data file (where blobs live). With
 * `hold`, those loads wait until `release()`. Being a wrapper, it stands for a remote
 * backend: BlobLoader reads a bare LocalBackend blob by blob (see the last test).
 */
class CountingBackend extends LoadCountingBackend {
  hold = false
  private waiting: (() => void)[] = []

  get held(): number {
    return this.waiting.length
  }
  release(): void {
    this.hold = false
    for (const w of this.waiting.splice(0)) w()
  }
  protected override async beforeLoad(): Promise<void> {
    if (this.hold) await new Promise<void>((resolve) => this.waiting.push(resolve))
  }
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b
}

/** Blob contents by ID, in the order they were written. */
type Contents = Map<BlobId, Buffer>

async function writeFiles(repo: Repository, files: readonly [string, Buffer][]): Promise<void> {
  const w = await SnapshotWriter.start(repo)
  for (const [name, data] of files) await w.writeFile(name, once(data))
  await w.commit({ paths: ['/'], hostname: 'h' })
}

function contentsOf(files: readonly [string, Buffer][]): Contents {
  return new Map(files.map(([, data]) => [hashId<BlobId>(data), data]))
}

let tmp: Awaited<ReturnType<typeof makeTempDir>>
/** The shared repository; tests that damage a repository make their own. */
let fixture: string
let onePack: Contents
let otherPack: Contents

const smallFiles = (label: string): [string, Buffer][] => [
  ...Array.from({ length: SMALL }, (_, i): [string, Buffer] => [
    `${label}/s${i}`,
    seededBytes(`${label}${i}`, 1000 + 97 * i),
  ]),
  ...Array.from({ length: LARGE }, (_, i): [string, Buffer] => [
    `${label}/l${i}`,
    seededBytes(`${label}-large${i}`, 40_000 + i),
  ]),
]

const otherFiles = (): [string, Buffer][] =>
  Array.from({ length: OTHER }, (_, i) => [`b/o${i}`, seededBytes(`b${i}`, 2000 + i)])

/** A new repository at `dir` holding `smallFiles('a')` in one pack, `otherFiles()` in another. */
async function makeRepo(dir: string): Promise<void> {
  const repo = await Repository.init({
    backend: new LocalBackend(dir),
    password: PASSWORD,
    kdf: TEST_KDF,
  })
  await writeFiles(repo, smallFiles('a'))
  await writeFiles(repo, otherFiles())
  await repo.close()
}

beforeAll(async () => {
  tmp = await makeTempDir('pack-read-coalescer')
  fixture = join(tmp.path, 'fixture')
  await makeRepo(fixture)
  onePack = contentsOf(smallFiles('a'))
  otherPack = contentsOf(otherFiles())
})
afterAll(() => tmp.cleanup())

const openReader = readerOpener(PASSWORD)

const location = (reader: RepoReader, id: BlobId): BlobLocation => reader.index.lookup('data', id)!

/** Replaces a repository file (files are never modified in place). */
async function rewrite(be: Backend, h: Handle, change: (data: Buffer) => Buffer): Promise<void> {
  const data = change(await be.load(h))
  await be.remove(h)
  await be.save(h, data)
}

const packOf = (loc: BlobLocation): Handle => ({ type: 'data', name: loc.packId })

/** `ids` sorted by where their blobs are stored. */
const inPackOrder = (reader: RepoReader, ids: readonly BlobId[]): BlobId[] =>
  [...ids].sort((x, y) => location(reader, x).offset - location(reader, y).offset)

describe('planPackReads', () => {
  const limits = { maxGap: 10, maxRange: 100 }
  const cases: {
    name: string
    requests: [number, number][]
    ranges: [number, number, number][]
  }[] = [
    {
      name: 'neighbours merge',
      requests: [
        [0, 10],
        [10, 5],
        [15, 5],
      ],
      ranges: [[0, 20, 3]],
    },
    {
      name: 'unsorted input is sorted',
      requests: [
        [30, 5],
        [0, 10],
        [12, 10],
      ],
      ranges: [[0, 35, 3]],
    },
    {
      name: 'a gap up to maxGap is read',
      requests: [
        [0, 10],
        [20, 5],
      ],
      ranges: [[0, 25, 2]],
    },
    {
      name: 'a wider gap splits',
      requests: [
        [0, 10],
        [21, 5],
      ],
      ranges: [
        [0, 10, 1],
        [21, 5, 1],
      ],
    },
    {
      name: 'a range stops at maxRange',
      requests: [
        [0, 60],
        [60, 30],
        [90, 20],
      ],
      ranges: [
        [0, 90, 2],
        [90, 20, 1],
      ],
    },
    { name: 'a request above maxRange is read alone', requests: [[0, 150]], ranges: [[0, 150, 1]] },
    {
      name: 'the same bytes twice share',
      requests: [
        [40, 8],
        [40, 8],
      ],
      ranges: [[40, 8, 2]],
    },
    { name: 'nothing asked, nothing read', requests: [], ranges: [] },
  ]
  it.each(cases)('$name', ({ requests, ranges }) => {
    const plans = planPackReads(
      requests.map(([offset, length]) => ({ offset, length })),
      limits,
    )
    expect(plans.map((p) => [p.offset, p.length, p.requests.length])).toEqual(ranges)
  })
})

describe('BlobLoader reads of one pack', () => {
  it('loads many blobs asked for at once with one read, byte for byte', async () => {
    const backend = new CountingBackend(new LocalBackend(fixture))
    const reader = await openReader(backend)
    const ids = [...onePack.keys()]
    const got = await Promise.all(ids.map((id) => reader.blobs.load('data', id)))
    got.forEach((b, i) => expect(b.equals(onePack.get(ids[i]!)!)).toBe(true))
    // SMALL + LARGE blobs of one pack, neighbours: one read, where there used to be one each.
    expect(backend.loads).toHaveLength(1)
    expect(backend.loads[0]!.name).toBe(location(reader, ids[0]!).packId)
  })

  it('does not merge blobs of different packs', async () => {
    const backend = new CountingBackend(new LocalBackend(fixture))
    const reader = await openReader(backend)
    const ids = [...[...onePack.keys()].slice(0, 5), ...otherPack.keys()]
    const got = await Promise.all(ids.map((id) => reader.blobs.load('data', id)))
    got.forEach((b, i) =>
      expect(b.equals((onePack.get(ids[i]!) ?? otherPack.get(ids[i]!))!)).toBe(true),
    )
    const packs = new Set(ids.map((id) => location(reader, id).packId))
    expect(packs.size).toBe(2)
    expect(new Set(backend.loads.map((l) => l.name))).toEqual(packs)
    expect(backend.loads).toHaveLength(2)
  })

  it('gives both askers a blob asked for twice at once', async () => {
    const backend = new CountingBackend(new LocalBackend(fixture))
    const reader = await openReader(backend)
    // Above the inline limit: opened on a worker, to which a blob's buffer may be handed over.
    const large = [...onePack.keys()].at(-1)!
    const got = await Promise.all([large, large].map((id) => reader.blobs.load('data', id)))
    for (const b of got) expect(b.equals(onePack.get(large)!)).toBe(true)
    expect(backend.loads).toHaveLength(1)
  })

  it('answers a blob that a merged read skipped over without reading again', async () => {
    const backend = new CountingBackend(new LocalBackend(fixture))
    const reader = await openReader(backend)
    const [a, skipped, c] = inPackOrder(reader, [...onePack.keys()])
    await Promise.all([a!, c!].map((id) => reader.blobs.load('data', id)))
    expect(backend.loads).toHaveLength(1)
    expect((await reader.blobs.load('data', skipped!)).equals(onePack.get(skipped!)!)).toBe(true)
    expect(backend.loads).toHaveLength(1)
  })

  it('lets a blob asked for while a read brings it anyway join that read', async () => {
    const backend = new CountingBackend(new LocalBackend(fixture))
    const reader = await openReader(backend)
    const [a, skipped, c] = inPackOrder(reader, [...onePack.keys()])
    backend.hold = true
    const first = Promise.all([a!, c!].map((id) => reader.blobs.load('data', id)))
    await expect.poll(() => backend.held).toBe(1)
    const late = reader.blobs.load('data', skipped!)
    backend.release()
    await first
    expect((await late).equals(onePack.get(skipped!)!)).toBe(true)
    expect(backend.loads).toHaveLength(1)
  })

  it('fails only the damaged blob of a shared read; its neighbours load', async () => {
    const dir = join(tmp.path, 'flipped')
    await makeRepo(dir)
    const backend = new CountingBackend(new LocalBackend(dir))
    const reader = await openReader(backend)
    const ids = [...onePack.keys()]
    const damaged = ids[Math.floor(SMALL / 2)]!
    const loc = location(reader, damaged)
    await rewrite(backend, packOf(loc), (data) => {
      data[loc.offset + 20] = data[loc.offset + 20]! ^ 0x01
      return data
    })
    const before = backend.loads.length
    const got = await Promise.allSettled(ids.map((id) => reader.blobs.load('data', id)))
    expect(backend.loads.length - before).toBe(1)
    got.forEach((r, i) => {
      if (ids[i] === damaged) {
        expect(r.status).toBe('rejected')
        const e = (r as PromiseRejectedResult).reason as unknown
        expect(e).toBeInstanceOf(IntegrityError)
        expect((e as Error).message).toMatch(/fails authentication/)
      } else {
        expect(r.status).toBe('fulfilled')
        expect((r as PromiseFulfilledResult<Buffer>).value.equals(onePack.get(ids[i]!)!)).toBe(true)
      }
    })
  })

  it('fails only the blobs past the end of a pack cut short', async () => {
    const dir = join(tmp.path, 'cut')
    await makeRepo(dir)
    const backend = new CountingBackend(new LocalBackend(dir))
    const reader = await openReader(backend)
    const ids = [...onePack.keys()]
    const locs = ids.map((id) => location(reader, id)).sort((a, b) => a.offset - b.offset)
    const last = locs.at(-1)!
    await rewrite(backend, packOf(last), (data) => data.subarray(0, last.offset + 10))
    const got = await Promise.allSettled(ids.map((id) => reader.blobs.load('data', id)))
    got.forEach((r, i) => {
      if (ids[i] === last.id) {
        expect(r.status).toBe('rejected')
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(BackendError)
      } else {
        expect(r.status).toBe('fulfilled')
      }
    })
  })

  it('says the pack is missing to every blob of a missing pack', async () => {
    const dir = join(tmp.path, 'missing')
    await makeRepo(dir)
    const backend = new CountingBackend(new LocalBackend(dir))
    const reader = await openReader(backend)
    const ids = [...onePack.keys()].slice(0, 6)
    await backend.remove(packOf(location(reader, ids[0]!)))
    const got = await Promise.allSettled(ids.map((id) => reader.blobs.load('data', id)))
    for (const r of got) {
      expect(r.status).toBe('rejected')
      const e = (r as PromiseRejectedResult).reason as unknown
      expect(e).toBeInstanceOf(IntegrityError)
      expect((e as Error).message).toMatch(/the pack is missing/)
    }
  })

  it('fails every blob of a read the backend fails, and reads again afterwards', async () => {
    const faulty = new FaultyBackend(new LocalBackend(fixture), [
      { ops: ['load'], types: ['data'], calls: [1] },
    ])
    const backend = new CountingBackend(faulty)
    const reader = await openReader(backend)
    const ids = [...onePack.keys()].slice(0, 8)
    const got = await Promise.allSettled(ids.map((id) => reader.blobs.load('data', id)))
    expect(faulty.injected).toBe(1)
    expect(backend.loads).toHaveLength(1)
    for (const r of got) {
      expect(r.status).toBe('rejected')
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(BackendError)
    }
    const again = await Promise.all(ids.map((id) => reader.blobs.load('data', id)))
    again.forEach((b, i) => expect(b.equals(onePack.get(ids[i]!)!)).toBe(true))
  })

  it('rejects an aborted asker with its reason; the other asker of the read gets its bytes', async () => {
    const backend = new CountingBackend(new LocalBackend(fixture))
    const reader = await openReader(backend)
    const [a, b] = [...onePack.keys()]
    backend.hold = true
    const aborts = new AbortController()
    const gotA = reader.blobs.load('data', a!, aborts.signal)
    const gotB = reader.blobs.load('data', b!, new AbortController().signal)
    await expect.poll(() => backend.held).toBe(1)
    const reason = new Error('user stopped it')
    aborts.abort(reason)
    await expect(gotA).rejects.toBe(reason)
    // The shared read goes on for b.
    expect(backend.signals[0]!.aborted).toBe(false)
    backend.release()
    expect((await gotB).equals(onePack.get(b!)!)).toBe(true)
    expect(backend.loads).toHaveLength(1)
  })

  it('aborts the shared read once every asker left', async () => {
    const backend = new CountingBackend(new LocalBackend(fixture))
    const reader = await openReader(backend)
    const ids = [...onePack.keys()].slice(0, 3)
    backend.hold = true
    const aborts = ids.map(() => new AbortController())
    const got = ids.map((id, i) => reader.blobs.load('data', id, aborts[i]!.signal))
    await expect.poll(() => backend.held).toBe(1)
    aborts.forEach((c, i) => c.abort(new Error(`stop ${i}`)))
    for (const [i, p] of got.entries()) await expect(p).rejects.toThrow(`stop ${i}`)
    expect(backend.signals[0]!.aborted).toBe(true)
    backend.release()
  })

  it('watches a signal that many requests share with one listener', async () => {
    const backend = new CountingBackend(new LocalBackend(fixture))
    const reader = await openReader(backend)
    const signal = new AbortController().signal
    backend.hold = true
    const got = Promise.all([...onePack.keys()].map((id) => reader.blobs.load('data', id, signal)))
    await expect.poll(() => backend.held).toBe(1)
    expect(getEventListeners(signal, 'abort')).toHaveLength(1)
    backend.release()
    await got
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
  })
})

describe('BlobLoader with a blob stored twice', () => {
  let dir: string
  let dup: Buffer
  let dupId: BlobId

  beforeAll(async () => {
    // Two backups running at once do not see each other's new blobs: both store the file.
    dir = join(tmp.path, 'twice')
    const first = await Repository.init({
      backend: new LocalBackend(dir),
      password: PASSWORD,
      kdf: TEST_KDF,
    })
    const second = await Repository.open({ backend: new LocalBackend(dir), password: PASSWORD })
    dup = seededBytes('dup', 3000)
    dupId = hashId<BlobId>(dup)
    const writers = [await SnapshotWriter.start(first), await SnapshotWriter.start(second)]
    for (const [i, w] of writers.entries()) {
      await w.writeFile(`n${i}`, once(seededBytes(`neighbour${i}`, 1500)))
      await w.writeFile('dup', once(dup))
      await w.writeFile(`m${i}`, once(seededBytes(`after${i}`, 1500)))
    }
    for (const w of writers) await w.commit({ paths: ['/'], hostname: 'h' })
    await Promise.all([first.close(), second.close()])
  })

  it('loads from the second copy when the first is damaged, also within a shared read', async () => {
    const backend = new CountingBackend(new LocalBackend(dir))
    const reader = await openReader(backend)
    const copies = reader.index.locations('data', dupId)
    expect(copies).toHaveLength(2)
    expect(copies[0]!.packId).not.toBe(copies[1]!.packId)
    const first = copies[0]!
    await rewrite(backend, packOf(first), (data) => {
      data[first.offset + 5] = data[first.offset + 5]! ^ 0x80
      return data
    })
    // A blob stored beside the damaged copy, so that both are in one read.
    const neighbour = [0, 1]
      .map((i) => seededBytes(`neighbour${i}`, 1500))
      .find((b) => location(reader, hashId(b)).packId === first.packId)!
    const neighbourId = hashId<BlobId>(neighbour)
    const [got, n] = await Promise.all([
      reader.blobs.load('data', dupId),
      reader.blobs.load('data', neighbourId),
    ])
    expect(got.equals(dup)).toBe(true)
    expect(n.equals(neighbour)).toBe(true)
    // Reading the first copy alone fails, naming its pack.
    await expect(reader.blobs.loadFrom(first)).rejects.toThrow(IntegrityError)
  })
})

describe('BlobLoader on a bare local directory', () => {
  it('reads blob by blob, without merging', async () => {
    const loads: (number | undefined)[] = []
    class CountingLocal extends LocalBackend {
      override load(h: Handle, opts?: LoadOptions): Promise<Buffer> {
        if (h.type === 'data') loads.push(opts?.length)
        return super.load(h, opts)
      }
    }
    const reader = await openReader(new CountingLocal(fixture))
    const ids = [...onePack.keys()]
    const got = await Promise.all(ids.map((id) => reader.blobs.load('data', id)))
    got.forEach((b, i) => expect(b.equals(onePack.get(ids[i]!)!)).toBe(true))
    expect(loads).toEqual(ids.map((id) => location(reader, id).length))
  })
})
