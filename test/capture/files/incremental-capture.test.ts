import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileCapture, restoreMount, type FilesWriter } from '../../../src/capture/index.js'
import { RepoReader, SnapshotWriter, type Repository } from '../../../src/repo/index.js'
import { describeTree, diffTrees } from '../../helpers/dir-snapshot.js'
import {
  createRepo,
  mountTarget,
  snapshotMount,
  type MountSnapshot,
} from '../../helpers/mount-repo.js'
import { seededBytes } from '../../helpers/seeded-bytes.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

const FILES = 200
const SIZE = 8 * 1024
const name = (i: number): string => `img/${i % 16}/img${String(i).padStart(4, '0')}.jpg`

describe('incremental capture of a mount', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: Repository
  let src: string
  let first: MountSnapshot

  beforeAll(async () => {
    tmp = await makeTempDir('files-incremental')
    src = join(tmp.path, 'media')
    for (let i = 0; i < FILES; i++) {
      await mkdir(join(src, `img/${i % 16}`), { recursive: true })
      await writeFile(join(src, name(i)), seededBytes(`img${i}`, SIZE))
    }
    repo = await createRepo(tmp.path)
    first = await snapshotMount(repo, src)
  })
  afterAll(() => tmp.cleanup())

  it('reads every file the first time', () => {
    expect(first.stats.filesNew).toBe(FILES)
    expect(first.stats.filesRead).toBe(FILES)
    expect(first.stats.bytesRead).toBe(FILES * SIZE)
  })

  it('reads no file of an unchanged mount', async () => {
    const again = await snapshotMount(repo, src, { parent: first.snap })
    expect(again.stats.bytesRead).toBe(0)
    expect(again.stats.filesRead).toBe(0)
    expect(again.stats.filesUnmodified).toBe(FILES)
    // Same content, same tree.
    expect(again.tree).toBe(first.tree)
  })

  it('reads only the changed files, and the snapshot restores to the new state', async () => {
    await writeFile(join(src, name(3)), seededBytes('changed', SIZE))
    await appendFile(join(src, name(4)), 'more')
    await writeFile(join(src, 'img/0/new.jpg'), 'new')
    await rm(join(src, name(5)))
    const next = await snapshotMount(repo, src, { parent: first.snap })
    expect(next.stats.filesRead).toBe(3)
    expect(next.stats.bytesRead).toBe(2 * SIZE + 4 + 3)
    expect(next.stats.filesChanged).toBe(2)
    expect(next.stats.filesNew).toBe(1)
    expect(next.stats.filesUnmodified).toBe(FILES - 3)
    const target = join(tmp.path, 'check-next')
    await restoreMount(await RepoReader.open(repo), next.tree, target, { rootNode: next.node })
    expect(
      diffTrees(await describeTree(target), await describeTree(src), { mtimeSlackUs: 1n }),
    ).toEqual([])
  })

  it('re-reads in the final pass only what changed since the pre-copy', async () => {
    const parent = await snapshotMount(repo, src, { parent: first.snap })
    const held = await snapshotMount(repo, src, {
      parent: parent.snap,
      between: async () => {
        // What the running site writes between the pre-copy and the hold.
        await writeFile(join(src, name(10)), seededBytes('during pre-copy', SIZE))
        await writeFile(join(src, 'img/1/late.jpg'), 'late')
        await rm(join(src, name(11)))
      },
    })
    expect(held.finalPass?.filesReread).toBe(2)
    expect(held.finalPass?.bytesRead).toBe(SIZE + 4)
    expect(held.finalPass?.changedDuringRead).toEqual([])
    const target = join(tmp.path, 'check-held')
    await restoreMount(await RepoReader.open(repo), held.tree, target, { rootNode: held.node })
    expect(
      diffTrees(await describeTree(target), await describeTree(src), { mtimeSlackUs: 1n }),
    ).toEqual([])
  })

  it('names a file that changed while it was read, and stores it as read', async () => {
    const growing = join(src, 'var/log/system.log')
    await mkdir(join(src, 'var/log'), { recursive: true })
    await writeFile(growing, 'line 1\n')
    const writer = await SnapshotWriter.start(repo)
    let appended = false
    // The site appends to the log right after Coffer read it (a real write, not a stub).
    const appending: FilesWriter = {
      saveContent: async (source, opts) => {
        async function* thenAppend(): AsyncGenerator<Uint8Array> {
          for await (const chunk of source) {
            yield chunk
            if (!appended) await appendFile(growing, 'line 2\n')
            appended = true
          }
        }
        return writer.saveContent(thenAppend(), opts)
      },
      saveSmallFile: async (path, size) => {
        const saved = await writer.saveSmallFile(path, size)
        if (!appended) await appendFile(growing, 'line 2\n')
        appended = true
        return saved
      },
      addNode: (dir, node) => writer.addNode(dir, node),
      addDir: (path, meta) => writer.addDir(path, meta),
      finishDir: (path) => writer.finishDir(path),
    }
    const capture = new FileCapture(
      appending,
      { path: join(src, 'var'), target: mountTarget('var') },
      { special: 'skip' },
    )
    const stats = await capture.preCopy()
    expect(stats.changedDuringRead).toEqual([growing])
    // Inside the hold, the final pass reads it again and it is stable now.
    const fin = await capture.finalPass()
    expect(fin.filesReread).toBe(1)
    expect(fin.changedDuringRead).toEqual([])
    expect(capture.stats.changedDuringRead).toEqual([])
    await writer.abort()
  })

  it('lists a file that vanished during the walk and goes on', async () => {
    const dir = join(tmp.path, 'vanishing')
    await mkdir(dir)
    await writeFile(join(dir, 'a.jpg'), 'first')
    await writeFile(join(dir, 'b.jpg'), 'deleted by the site before Coffer reads it')
    await writeFile(join(dir, 'c.jpg'), 'third')
    const writer = await SnapshotWriter.start(repo)
    // Reading one file at a time, the site deletes b.jpg while a.jpg is read.
    const deleting: FilesWriter = {
      saveContent: async (source, opts) => {
        async function* thenDelete(): AsyncGenerator<Uint8Array> {
          for await (const chunk of source) {
            if (Buffer.from(chunk).toString() === 'first') await rm(join(dir, 'b.jpg'))
            yield chunk
          }
        }
        return writer.saveContent(thenDelete(), opts)
      },
      saveSmallFile: async (path, size) => {
        const saved = await writer.saveSmallFile(path, size)
        if (path.toString().endsWith('a.jpg')) await rm(join(dir, 'b.jpg'))
        return saved
      },
      addNode: (d, node) => writer.addNode(d, node),
      addDir: (path, meta) => writer.addDir(path, meta),
      finishDir: (path) => writer.finishDir(path),
    }
    const capture = new FileCapture(
      deleting,
      { path: dir, target: mountTarget('vanishing') },
      { concurrency: 1 },
    )
    const stats = await capture.preCopy()
    expect(stats.vanished).toEqual([join(dir, 'b.jpg')])
    expect(stats.filesRead).toBe(2)
    await capture.writeTree()
    const snap = await writer.commit({
      paths: ['/mounts/vanishing'],
      hostname: 'shop',
      counts: stats,
    })
    const node = await (await RepoReader.open(repo)).lookup(snap.tree, mountTarget('vanishing'))
    const names = (await (await RepoReader.open(repo)).loadTree(node!.subtree!)).map((n) =>
      Buffer.from(n.name).toString(),
    )
    expect(names).toEqual(['a.jpg', 'c.jpg'])
  })
})
