import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CONFIG_HANDLE,
  handleName,
  RepoReader,
  treePath,
  type Backend,
  type FileType,
  type Handle,
} from '../../src/repo/index.js'
import { describeTree } from '../helpers/dir-snapshot.js'
import { runCoffer } from '../helpers/run-coffer.js'
import { useTestRepos } from '../helpers/test-repos.js'
import { makeTempDir } from '../helpers/tmp-dir.js'
import { seededBytes } from '../helpers/seeded-bytes.js'

const PASSWORD = 'flip'
const env = { COFFER_PASSWORD: PASSWORD }
const repos = useTestRepos()

// Copies and damage go through the Backend API, not the file system, so that the same
// damage is done to a directory and to an S3 bucket.

/** Copies every file of a repository to a new, empty location. */
async function copyRepo(from: Backend, to: Backend): Promise<void> {
  await to.create()
  await to.save(CONFIG_HANDLE, await from.load(CONFIG_HANDLE))
  const types: FileType[] = ['keys', 'snapshots', 'index', 'data']
  for (const type of types) {
    for await (const { name } of from.list(type)) {
      const h = { type, name }
      await to.save(h, await from.load(h))
    }
  }
}

/** Flips one byte of a repository file, replacing it (files are never modified in place). */
async function flipByte(be: Backend, h: Handle, at: (size: number) => number): Promise<void> {
  const data = await be.load(h)
  const i = at(data.length)
  data[i] = data[i]! ^ 0x40
  await be.remove(h)
  await be.save(h, data)
}

async function firstFile(be: Backend, type: FileType): Promise<Handle> {
  for await (const { name } of be.list(type)) return { type, name }
  throw new Error(`the repository has no ${type} file`)
}

describe('a flipped byte in any repository file is detected, never restored as data', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let pristine: Backend
  let src: string
  /** Where things are in the pristine repository. */
  let where: {
    dataPack: Handle
    dataBlobOffset: number
    treePack: Handle
    index: Handle
    snapshot: Handle
    key: Handle
  }

  beforeAll(async () => {
    tmp = await makeTempDir('corruption')
    src = join(tmp.path, 'src')
    await mkdir(join(src, 'sub'), { recursive: true })
    await writeFile(join(src, 'a.bin'), seededBytes('a', 300_000))
    await writeFile(join(src, 'sub', 'b.txt'), 'bee\n')
    const location = repos.location(tmp.path, 'pristine')
    const repo = await repos.init(location, PASSWORD)
    pristine = repo.backend
    const r = await runCoffer(['repo:backup', '--repo', location, src], { env })
    expect(r.code, r.stderr).toBe(0)
    const reader = await RepoReader.open(repo)
    const [snap] = await repo.listSnapshots()
    const node = await reader.lookup(snap!.tree, treePath(`${src}/a.bin`))
    const dataLoc = reader.index.lookup('data', node!.content![0]!)!
    const treeLoc = reader.index.lookup('tree', snap!.tree)!
    where = {
      dataPack: { type: 'data', name: dataLoc.packId },
      dataBlobOffset: dataLoc.offset + 100,
      treePack: { type: 'data', name: treeLoc.packId },
      index: await firstFile(pristine, 'index'),
      snapshot: { type: 'snapshots', name: snap!.id },
      key: await firstFile(pristine, 'keys'),
    }
  })
  afterAll(() => tmp.cleanup())

  const cases = [
    {
      kind: 'data blob in a pack',
      file: () => where.dataPack,
      at: () => where.dataBlobOffset,
      restoreNeedsIt: true,
    },
    // A restore reads blobs through the index, not pack headers: it succeeds, with correct data.
    {
      kind: 'pack header',
      file: () => where.dataPack,
      at: (n: number) => n - 20,
      restoreNeedsIt: false,
    },
    {
      kind: 'tree pack',
      file: () => where.treePack,
      at: (n: number) => Math.floor(n / 3),
      restoreNeedsIt: true,
    },
    {
      kind: 'index',
      file: () => where.index,
      at: (n: number) => Math.floor(n / 2),
      restoreNeedsIt: true,
    },
    {
      kind: 'snapshot',
      file: () => where.snapshot,
      at: (n: number) => Math.floor(n / 2),
      restoreNeedsIt: true,
    },
    {
      kind: 'key',
      file: () => where.key,
      at: (n: number) => Math.floor(n / 2),
      restoreNeedsIt: true,
    },
    {
      kind: 'config',
      file: () => CONFIG_HANDLE,
      at: (n: number) => Math.floor(n / 2),
      restoreNeedsIt: true,
    },
  ]

  it.each(cases)(
    '$kind: check --read-data fails naming the file, and so does a restore that needs it',
    async ({ kind, file, at, restoreNeedsIt }) => {
      const repo = repos.location(tmp.path, kind.replaceAll(' ', '-'))
      const backend = await repos.backend(repo)
      await copyRepo(pristine, backend)
      await flipByte(backend, file(), at)
      const rel = handleName(file())

      const check = await runCoffer(['repo:check', '--repo', repo, '--read-data'], { env })
      expect(check.code).not.toBe(0)
      expect(check.stdout + check.stderr).toContain(rel)

      const target = join(tmp.path, `${kind.replaceAll(' ', '-')}-restore`)
      const restore = await runCoffer(
        ['repo:restore', '--repo', repo, 'latest', '--target', target],
        { env },
      )
      if (restoreNeedsIt) {
        expect(restore.code).not.toBe(0)
        expect(restore.stderr).toContain(rel)
        expect(restore.stderr.trim().split('\n'), restore.stderr).toHaveLength(1)
      } else {
        expect(restore.code, restore.stderr).toBe(0)
        expect((await describeTree(join(target, src))).map((e) => e.sha256)).toEqual(
          (await describeTree(src)).map((e) => e.sha256),
        )
      }
      // Whatever was restored before the failure is correct; nothing damaged was written.
      const original = new Map((await describeTree(src)).map((e) => [e.path, e.sha256]))
      const restored = await describeTree(join(target, src)).catch(() => [])
      for (const e of restored) if (e.type === 'file') expect(e.sha256).toBe(original.get(e.path))
    },
  )
})
