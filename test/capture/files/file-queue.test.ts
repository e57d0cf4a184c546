import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileQueue, type QueuedFile } from '../../../src/capture/files/file-queue.js'
import {
  LocalBackend,
  Repository,
  RepoReader,
  SnapshotWriter,
  TEST_KDF,
  type Node,
} from '../../../src/repo/index.js'
import { FaultyBackend } from '../../helpers/faulty-backend.js'
import { readerOpener } from '../../helpers/load-counting-backend.js'
import { seededBytes } from '../../helpers/seeded-bytes.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

const PASSWORD = 'file-queue'

// FileQueue writes a restore's files: a file of one blob is created by the crypto worker
// that writes it (O_EXCL), others ahead on this thread; a blob loaded again after a failed
// read is written here, creating its file when the worker did not.
const files: [string, Buffer][] = [
  ...Array.from({ length: 12 }, (_, i): [string, Buffer] => [
    `one${i}`,
    seededBytes(`one${i}`, 3000 + 20_011 * i),
  ]),
  ['empty', Buffer.alloc(0)],
  ['big', seededBytes('big', 9 * 1024 * 1024)],
]

let tmp: Awaited<ReturnType<typeof makeTempDir>>
let dir: string
const nodes = new Map<string, Node>()

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b
}

beforeAll(async () => {
  tmp = await makeTempDir('file-queue')
  dir = join(tmp.path, 'repo')
  const repo = await Repository.init({
    backend: new LocalBackend(dir),
    password: PASSWORD,
    kdf: TEST_KDF,
  })
  const w = await SnapshotWriter.start(repo)
  for (const [name, data] of files) await w.writeFile(name, once(Buffer.from(data)))
  const snap = await w.commit({ paths: ['/'], hostname: 'h' })
  const reader = await RepoReader.open(repo)
  for await (const { node } of reader.walk(snap.tree))
    if (node.type === 'file') nodes.set(Buffer.from(node.name).toString(), node)
  await repo.close()
  expect(nodes.get('big')!.content!.length).toBeGreaterThan(1)
  expect(nodes.get('one0')!.content).toHaveLength(1)
})
afterAll(() => tmp.cleanup())

const openReader = readerOpener(PASSWORD)

/** Writes every file into a fresh directory `out`; returns the names completed. */
async function writeAll(reader: RepoReader, out: string): Promise<string[]> {
  const done: string[] = []
  const queue = new FileQueue<QueuedFile>(reader, { bytes: 0 }, (f) => {
    done.push(f.path.toString())
  })
  for (const [name] of files)
    queue.add({ path: Buffer.from(join(out, name)), node: nodes.get(name)! })
  await queue.writeAll()
  return done
}

async function freshDir(name: string): Promise<string> {
  const out = join(tmp.path, name)
  await rm(out, { recursive: true, force: true })
  await mkdir(out)
  return out
}

describe('FileQueue', () => {
  it('writes every file exactly, one-blob files created by the workers', async () => {
    const out = await freshDir('out')
    const done = await writeAll(await openReader(new LocalBackend(dir)), out)
    expect(done.sort()).toEqual(files.map(([n]) => join(out, n)).sort())
    for (const [name, data] of files) {
      expect((await readFile(join(out, name))).equals(data), name).toBe(true)
      // Created 0600, whoever created it (the caller sets the snapshot's mode afterwards).
      expect((await stat(join(out, name))).mode & 0o777, name).toBe(0o600)
    }
  })

  it('creates a one-blob file on this thread when its blob is loaded again after a failed read', async () => {
    // Through a backend that is not a local directory, the workers get ranges read here; the
    // first read fails, so the blobs of that range are loaded again one by one and written
    // here, where their files do not exist yet.
    const faulty = new FaultyBackend(new LocalBackend(dir), [
      { ops: ['load'], types: ['data'], calls: [1], permanent: true },
    ])
    const out = await freshDir('out-refetched')
    const done = await writeAll(await openReader(faulty), out)
    expect(faulty.injected).toBe(1)
    expect(done).toHaveLength(files.length)
    for (const [name, data] of files)
      expect((await readFile(join(out, name))).equals(data), name).toBe(true)
  })

  it('never writes through a symlink planted where a one-blob file is to be created', async () => {
    const out = await freshDir('out-planted')
    const outside = join(tmp.path, 'outside.txt')
    await writeFile(outside, 'keep me')
    await symlink(outside, join(out, 'one3'))
    const err = await writeAll(await openReader(new LocalBackend(dir)), out).catch(
      (e: unknown) => e,
    )
    expect((err as NodeJS.ErrnoException).code).toBe('EEXIST')
    expect(await readFile(outside, 'utf8')).toBe('keep me')
  })
})
