import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { cp, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IntegrityError } from '../../src/errors.js'
import {
  LocalBackend,
  readContentsByPack,
  Repository,
  RepoReader,
  SnapshotWriter,
  TEST_KDF,
  type BlobId,
  type ContentSink,
} from '../../src/repo/index.js'
import { FaultyBackend } from '../helpers/faulty-backend.js'
import { LoadCountingBackend, readerOpener } from '../helpers/load-counting-backend.js'
import { seededBytes } from '../helpers/seeded-bytes.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const PASSWORD = 'by-pack'

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b
}

/** Small files and a 9 MiB one (at least two blobs: 8 MiB at most each) in one backup, more small files in another. */
const firstFiles: [string, Buffer][] = [
  ...Array.from({ length: 30 }, (_, i): [string, Buffer] => [
    `s${i}`,
    seededBytes(`s${i}`, 500 + 1013 * i),
  ]),
  ['big', seededBytes('big', 9 * 1024 * 1024)],
]
const secondFiles: [string, Buffer][] = Array.from({ length: 8 }, (_, i) => [
  `t${i}`,
  seededBytes(`t${i}`, 20_000 + i),
])

let tmp: Awaited<ReturnType<typeof makeTempDir>>
let dir: string
/** Each file's content as the snapshots list it. */
const contentOf = new Map<string, readonly BlobId[]>()

beforeAll(async () => {
  tmp = await makeTempDir('content-by-pack')
  dir = join(tmp.path, 'repo')
  const repo = await Repository.init({
    backend: new LocalBackend(dir),
    password: PASSWORD,
    kdf: TEST_KDF,
  })
  for (const files of [firstFiles, secondFiles]) {
    const w = await SnapshotWriter.start(repo)
    // A copy: the writer may hand its buffers over to a worker thread.
    for (const [name, data] of files) await w.writeFile(name, once(Buffer.from(data)))
    const snap = await w.commit({ paths: ['/'], hostname: 'h' })
    const reader = await RepoReader.open(repo)
    for await (const { node } of reader.walk(snap.tree)) {
      if (node.type === 'file') contentOf.set(Buffer.from(node.name).toString(), node.content ?? [])
    }
  }
  await repo.close()
})
afterAll(() => tmp.cleanup())

const openReader = readerOpener(PASSWORD)

interface Job {
  readonly name: string
  readonly content: readonly BlobId[]
  readonly expected: Buffer
}

const allFiles = new Map([...firstFiles, ...secondFiles])
const fileJob = (name: string): Job => ({
  name,
  content: contentOf.get(name)!,
  expected: allFiles.get(name)!,
})

/**
 * The jobs every test restores: every file, one listing a small file's blob twice, one
 * sharing the big file's blobs in another order, and an empty one.
 */
function jobs(): Job[] {
  const big = contentOf.get('big')!
  const s3 = contentOf.get('s3')!
  return [
    ...[...allFiles.keys()].map(fileJob),
    {
      name: 'twice',
      content: [...s3, ...s3],
      expected: Buffer.concat([allFiles.get('s3')!, allFiles.get('s3')!]),
    },
    {
      name: 'big-reversed',
      content: [...big].reverse(),
      expected: Buffer.concat(
        [...big].reverse().map((id) => {
          // Each blob's bytes, found by where it sits in the big file.
          let at = 0
          for (const b of big) {
            const len = blobLengths.get(b)!
            if (b === id) return allFiles.get('big')!.subarray(at, at + len)
            at += len
          }
          throw new Error('blob not in the big file')
        }),
      ),
    },
    { name: 'empty', content: [], expected: Buffer.alloc(0) },
  ]
}

const blobLengths = new Map<BlobId, number>()

/** A sink assembling each job's bytes from the writes, checked when the job finishes. */
function recorder(): ContentSink<Job> & {
  finished: Map<string, { size: number; bytes: Buffer }>
} {
  const parts = new Map<Job, { offset: number; data: Buffer }[]>()
  const finished = new Map<string, { size: number; bytes: Buffer }>()
  return {
    finished,
    write(job, offset, data) {
      if (finished.has(job.name)) throw new Error(`${job.name}: written after it finished`)
      const list = parts.get(job) ?? []
      list.push({ offset, data: Buffer.from(data) })
      parts.set(job, list)
    },
    finish(job, size) {
      if (finished.has(job.name)) throw new Error(`${job.name}: finished twice`)
      const bytes = Buffer.alloc(size)
      for (const { offset, data } of parts.get(job) ?? []) data.copy(bytes, offset)
      finished.set(job.name, { size, bytes })
    },
  }
}

/** A copy of the repository where the first blob of `t2` is damaged. */
async function damagedCopy(name: string): Promise<{ reader: RepoReader; loc: { packId: string } }> {
  const copy = join(tmp.path, name)
  await cp(dir, copy, { recursive: true })
  const be = new LocalBackend(copy)
  const reader = await openReader(be)
  const victim = contentOf.get('t2')![0]!
  const loc = reader.index.locations('data', victim)[0]!
  const h = { type: 'data' as const, name: loc.packId }
  const data = await be.load(h)
  data[loc.offset + 20]! ^= 0xff
  await be.remove(h)
  await be.save(h, data)
  return { reader, loc }
}

/**
 * Reads every job from a copy named `copy` where t2's first blob is damaged: the call fails
 * naming the pack, t2 never finishes, and what did finish is exact.
 */
async function expectDamageFails(
  copy: string,
  sink: ContentSink<Job> & { finished: Map<string, { bytes: Buffer }> },
): Promise<void> {
  const { reader, loc } = await damagedCopy(copy)
  const err = await readContentsByPack(reader.blobs, jobs(), sink).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(IntegrityError)
  expect((err as Error).message).toContain(loc.packId.slice(0, 8))
  expect(sink.finished.has('t2')).toBe(false)
  for (const job of jobs()) {
    const got = sink.finished.get(job.name)
    if (got) expect(got.bytes.equals(job.expected), job.name).toBe(true)
  }
}

/**
 * A sink into files (the restore's way): each job's file is created empty in `dir`; the
 * workers write into it, `write` only takes blobs loaded again after damage. `finish`
 * reads the file back.
 */
function fileSink(
  out: string,
): ContentSink<Job> & { finished: Map<string, { size: number; bytes: Buffer }>; writes: number } {
  const finished = new Map<string, { size: number; bytes: Buffer }>()
  const pathOf = (job: Job): Buffer => Buffer.from(join(out, job.name))
  const sink = {
    finished,
    writes: 0,
    wrote: 0,
    write(job: Job, offset: number, data: Buffer) {
      sink.writes++
      const fd = openSync(pathOf(job), 'r+')
      try {
        writeSync(fd, data, 0, data.length, offset)
      } finally {
        closeSync(fd)
      }
    },
    finish(job: Job, size: number) {
      if (finished.has(job.name)) throw new Error(`${job.name}: finished twice`)
      closeSync(openSync(pathOf(job), 'a')) // an empty job's file is never asked for
      finished.set(job.name, { size, bytes: readFileSync(pathOf(job)) })
    },
    files: {
      path: async (job: Job) => {
        closeSync(openSync(pathOf(job), 'a'))
        return pathOf(job)
      },
      wrote: () => {},
    },
  }
  return sink
}

async function freshDir(name: string): Promise<string> {
  const out = join(tmp.path, name)
  await rm(out, { recursive: true, force: true })
  await mkdir(out)
  return out
}

describe('readContentsByPack', () => {
  beforeAll(async () => {
    const reader = await openReader(new LocalBackend(dir))
    for (const id of contentOf.get('big')!)
      blobLengths.set(id, (await reader.blobs.load('data', id)).length)
    expect(blobLengths.size).toBeGreaterThan(1)
  })

  it('gives every job its exact bytes, reading each pack once', async () => {
    const backend = new LoadCountingBackend(new LocalBackend(dir))
    const reader = await openReader(backend)
    const packsUsed = new Set(
      [...contentOf.values()].flat().map((id) => reader.index.locations('data', id)[0]!.packId),
    )
    const sink = recorder()
    const all = jobs()
    await readContentsByPack(reader.blobs, all, sink)
    for (const job of all) {
      const got = sink.finished.get(job.name)
      expect(got, job.name).toBeDefined()
      expect(got!.size, job.name).toBe(job.expected.length)
      expect(got!.bytes.equals(job.expected), job.name).toBe(true)
    }
    // 40 files and 4 more jobs listing far more blobs than packs: one read per pack.
    expect(packsUsed.size).toBeGreaterThan(1)
    expect(backend.loads.length).toBe(packsUsed.size)
    expect(new Set(backend.loads.map((l) => l.name))).toEqual(packsUsed)
  })

  it('reads the blobs of a range that failed one by one, and still gives exact bytes', async () => {
    const faulty = new FaultyBackend(new LocalBackend(dir), [
      { ops: ['load'], types: ['data'], calls: [1], permanent: true },
    ])
    const reader = await openReader(faulty)
    const sink = recorder()
    const all = jobs()
    await readContentsByPack(reader.blobs, all, sink, { packs: 1 })
    expect(faulty.injected).toBe(1)
    for (const job of all)
      expect(sink.finished.get(job.name)?.bytes.equals(job.expected)).toBe(true)
  })

  it('fails on a damaged blob with the pack named, and never finishes its job', async () => {
    await expectDamageFails('damaged', recorder())
  })

  it('stops with the signal’s reason when aborted', async () => {
    const reader = await openReader(new LocalBackend(dir))
    const ac = new AbortController()
    const sink = recorder()
    const reason = new Error('stop now')
    const pending = readContentsByPack(reader.blobs, jobs(), sink, { signal: ac.signal })
    ac.abort(reason)
    await expect(pending).rejects.toBe(reason)
    expect(sink.finished.size).toBeLessThan(jobs().length)
  })

  it('refuses a blob the index does not know before writing anything', async () => {
    const reader = await openReader(new LocalBackend(dir))
    const sink = recorder()
    const unknown = 'ab'.repeat(32) as BlobId
    const all = [...jobs(), { name: 'ghost', content: [unknown], expected: Buffer.alloc(0) }]
    await expect(readContentsByPack(reader.blobs, all, sink)).rejects.toThrow(
      /data blob abababab is not in any pack/,
    )
    expect(sink.finished.size).toBe(0)
  })
})

describe('readContentsByPack into files', () => {
  it('has the workers write every job’s exact bytes, from a local pack or a read one', async () => {
    for (const backend of [new LocalBackend(dir), new LoadCountingBackend(new LocalBackend(dir))]) {
      const reader = await openReader(backend)
      const sink = fileSink(await freshDir('into-files'))
      const all = jobs()
      await readContentsByPack(reader.blobs, all, sink)
      for (const job of all) {
        const got = sink.finished.get(job.name)
        expect(got?.size, job.name).toBe(job.expected.length)
        expect(got!.bytes.equals(job.expected), job.name).toBe(true)
      }
      // Nothing came back to be written here.
      expect(sink.writes).toBe(0)
    }
  })

  it('fails on a damaged blob with the pack named, and never finishes its job', async () => {
    await expectDamageFails('damaged-files', fileSink(await freshDir('damaged-out')))
  })

  it('says a pack is missing when its file is gone', async () => {
    const copy = join(tmp.path, 'pack-gone')
    await cp(dir, copy, { recursive: true })
    const reader = await openReader(new LocalBackend(copy))
    const loc = reader.index.locations('data', contentOf.get('t5')![0]!)[0]!
    rmSync(join(copy, 'data', loc.packId.slice(0, 2), loc.packId))
    const sink = fileSink(await freshDir('pack-gone-out'))
    await expect(readContentsByPack(reader.blobs, jobs(), sink)).rejects.toThrow(
      `Repository file data/${loc.packId.slice(0, 2)}/${loc.packId} is damaged: the pack is missing.`,
    )
    expect(sink.finished.has('t5')).toBe(false)
  })

  it('fails with the file’s error when a file cannot be written', async () => {
    const reader = await openReader(new LocalBackend(dir))
    const out = await freshDir('unwritable')
    const sink = fileSink(out)
    // The file is named but not there: the worker's open fails (O_NOFOLLOW, and no O_CREAT
    // for a sink that does not ask for it).
    sink.files!.path = async (job: Job) => Buffer.from(join(out, `${job.name}-gone`))
    const err = await readContentsByPack(reader.blobs, jobs(), sink).catch((e: unknown) => e)
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT')
    expect((err as Error).message).toMatch(/^ENOENT: no such file or directory, open '.*-gone'$/)
    expect(sink.finished.size).toBe(1) // only the empty job
  })
})
