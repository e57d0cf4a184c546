import { chmod, cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend, RepoReader, Repository, TEST_KDF, treePath } from '../../src/repo/index.js'
import { describeTree } from '../helpers/dir-snapshot.js'
import { runCoffer } from '../helpers/run-coffer.js'
import { makeTempDir } from '../helpers/tmp-dir.js'
import { seededBytes } from '../helpers/seeded-bytes.js'

const PASSWORD = 'flip'
const env = { COFFER_PASSWORD: PASSWORD }

/** Flips one byte of a repository file (files are read-only, as restic leaves them). */
async function flipByte(file: string, at: (size: number) => number): Promise<void> {
  await chmod(file, 0o600)
  const data = await readFile(file)
  const i = at(data.length)
  data[i] = data[i]! ^ 0x40
  await writeFile(file, data)
}

const packFile = (repo: string, id: string): string => join(repo, 'data', id.slice(0, 2), id)

describe('a flipped byte in any repository file is detected, never restored as data', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let pristine: string
  let src: string
  /** Where things are in the pristine repository. */
  let where: {
    dataPack: string
    dataBlobOffset: number
    treePack: string
    index: string
    snapshot: string
    key: string
  }

  beforeAll(async () => {
    tmp = await makeTempDir('corruption')
    src = join(tmp.path, 'src')
    await mkdir(join(src, 'sub'), { recursive: true })
    await writeFile(join(src, 'a.bin'), seededBytes('a', 300_000))
    await writeFile(join(src, 'sub', 'b.txt'), 'bee\n')
    pristine = join(tmp.path, 'pristine')
    const repo = await Repository.init({
      backend: await LocalBackend.open(pristine),
      password: PASSWORD,
      kdf: TEST_KDF,
    })
    const r = await runCoffer(['repo:backup', '--repo', pristine, src], { env })
    expect(r.code).toBe(0)
    const reader = await RepoReader.open(repo)
    const [snap] = await repo.listSnapshots()
    const node = await reader.lookup(snap!.tree, treePath(`${src}/a.bin`))
    const dataLoc = reader.index.lookup('data', node!.content![0]!)!
    const treeLoc = reader.index.lookup('tree', snap!.tree)!
    where = {
      dataPack: packFile(pristine, dataLoc.packId),
      dataBlobOffset: dataLoc.offset + 100,
      treePack: packFile(pristine, treeLoc.packId),
      index: join(pristine, 'index', (await readdir(join(pristine, 'index')))[0]!),
      snapshot: join(pristine, 'snapshots', snap!.id),
      key: join(pristine, 'keys', (await readdir(join(pristine, 'keys')))[0]!),
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
      file: () => join('config'),
      at: (n: number) => Math.floor(n / 2),
      restoreNeedsIt: true,
    },
  ]

  it.each(cases)(
    '$kind: check --read-data fails naming the file, and so does a restore that needs it',
    async ({ kind, file, at, restoreNeedsIt }) => {
      const repo = join(tmp.path, kind.replaceAll(' ', '-'))
      await cp(pristine, repo, { recursive: true })
      const damaged = file().startsWith(pristine)
        ? file().replace(pristine, repo)
        : join(repo, file())
      await flipByte(damaged, at)
      const rel = damaged.slice(repo.length + 1)

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
