import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MIN_SIZE } from '../../src/repo/chunker/index.js'
import { BlobLoader } from '../../src/repo/blob-loader.js'
import { hashId, type BlobId } from '../../src/repo/id.js'
import { SnapshotWriter, type Repository } from '../../src/repo/index.js'
import { createRepo } from '../helpers/mount-repo.js'
import { seededBytes } from '../helpers/seeded-bytes.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

// Small files are read, hashed and sealed on a crypto worker (SnapshotWriter.saveSmallFile):
// the stored blob must be the file's bytes, deduplicated, and every way a read can fail must
// come back as the error the file capture decides on (its code), or as "stream it instead".
describe('saving a small file read on a worker', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: Repository
  let dir: string
  const name = (n: string): Buffer => Buffer.from(join(dir, n))

  beforeAll(async () => {
    tmp = await makeTempDir('small-file-save')
    dir = join(tmp.path, 'files')
    await mkdir(dir)
    repo = await createRepo(tmp.path)
  })
  afterAll(() => tmp.cleanup())

  it('stores the bytes as one blob, once, under names of any bytes', async () => {
    const data = seededBytes('small', 40_000)
    const odd = Buffer.concat([Buffer.from(dir + '/'), Buffer.from([0x66, 0xff, 0x0a, 0x5c])])
    await writeFile(odd, data)
    await writeFile(join(dir, 'copy.jpg'), data)
    const writer = await SnapshotWriter.start(repo)
    const first = await writer.saveSmallFile(odd, data.length)
    expect(first).toEqual({ content: [hashId(data)], size: data.length, newBytes: data.length })
    const again = await writer.saveSmallFile(name('copy.jpg'), data.length)
    expect(again).toEqual({ content: [hashId(data)], size: data.length, newBytes: 0 })
    // The blob reads back as the file's bytes once the writer has stored it.
    await writer.commit({ paths: ['/files'], hostname: 'h' })
    const index = await repo.index()
    expect(index.has('data', hashId<BlobId>(data))).toBe(true)
    const loaded = await new BlobLoader(repo, index).load('data', hashId<BlobId>(data))
    expect(Buffer.compare(loaded, data)).toBe(0)
  })

  it('stores an empty file as no blob', async () => {
    await writeFile(join(dir, 'empty'), '')
    const writer = await SnapshotWriter.start(repo)
    expect(await writer.saveSmallFile(name('empty'), 0)).toEqual({
      content: [],
      size: 0,
      newBytes: 0,
    })
    await writer.abort()
  })

  it('says "stream it" for a file larger than its stat said, or not small', async () => {
    await writeFile(join(dir, 'grown.log'), 'line 1\nline 2\n')
    const writer = await SnapshotWriter.start(repo)
    expect(await writer.saveSmallFile(name('grown.log'), 7)).toBeUndefined()
    expect(await writer.saveSmallFile(name('grown.log'), MIN_SIZE)).toBeUndefined()
    // A file that shrank is stored as read.
    expect(await writer.saveSmallFile(name('grown.log'), 100)).toMatchObject({ size: 14 })
    await writer.abort()
  })

  it('fails with the read error and its code: gone, a symlink, a directory', async () => {
    await symlink(join(dir, 'copy.jpg'), join(dir, 'link.jpg'))
    await mkdir(join(dir, 'a-dir'))
    const writer = await SnapshotWriter.start(repo)
    const failure = (n: string): Promise<unknown> =>
      writer.saveSmallFile(name(n), 10).then(
        () => 'saved',
        (e: unknown) => e,
      )
    expect(await failure('gone.jpg')).toMatchObject({ code: 'ENOENT' })
    expect(await failure('link.jpg')).toMatchObject({ code: 'ELOOP' })
    expect(await failure('a-dir')).toMatchObject({ code: 'EISDIR' })
    expect(String(await failure('gone.jpg'))).toContain(join(dir, 'gone.jpg'))
    await writer.abort()
  })
})
