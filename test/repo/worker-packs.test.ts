import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BlobLoader } from '../../src/repo/blob-loader.js'
import { BlobSaver } from '../../src/repo/blob-saver.js'
import { hashId, type BlobId } from '../../src/repo/id.js'
import type { Repository } from '../../src/repo/index.js'
import { createRepo, MOUNT_PASSWORD } from '../helpers/mount-repo.js'
import { resticOk } from '../helpers/restic.js'
import { seededBytes } from '../helpers/seeded-bytes.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

// A backup's data blobs are sealed into packs built on the crypto workers (WorkerPack): full
// packs come back finished, the last partial ones are put together on the main thread. The
// packs must be restic's, hold exactly the blobs saved, whatever savers share the workers.
describe('data packs built on the workers', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: Repository
  const repoDir = (): string => join(tmp.path, 'repo')

  beforeEach(async () => {
    tmp = await makeTempDir('worker-packs')
    repo = await createRepo(tmp.path)
  })
  afterEach(async () => {
    await repo.close()
    await tmp.cleanup()
  })

  /** Blobs above the size sealed inline, so that they go to the workers. */
  const blobs = (label: string, n: number): Buffer[] =>
    Array.from({ length: n }, (_, i) => seededBytes(`${label}-${i}`, 20_000 + 997 * i))

  /** Saves every blob, several at once, the way a capture does. */
  async function saveAll(saver: BlobSaver, data: readonly Buffer[]): Promise<void> {
    await Promise.all(data.map((d) => saver.saveUnhashed('data', new Uint8Array(d))))
  }

  async function expectStored(data: readonly Buffer[]): Promise<void> {
    const index = await repo.index()
    const loader = new BlobLoader(repo, index)
    for (const d of data) {
      const id = hashId<BlobId>(d)
      expect(index.has('data', id)).toBe(true)
      expect((await loader.load('data', id)).equals(d)).toBe(true)
    }
  }

  const packCount = async (): Promise<number> => {
    let n = 0
    for await (const _ of repo.backend.list('data')) n++
    return n
  }

  it('fills packs on the workers and ends with one partial pack, all readable by restic', async () => {
    const data = blobs('many', 120)
    const saver = new BlobSaver(repo, await repo.index(), { packSize: 256 * 1024 })
    await saveAll(saver, data)
    await saver.flush()
    // About 3.5 MB in packs of at least 256 KiB: full ones from each worker, one partial.
    const bytes = data.reduce((n, d) => n + d.length, 0)
    const packs = await packCount()
    expect(packs).toBeGreaterThan(3)
    expect(packs).toBeLessThanOrEqual(Math.ceil(bytes / (256 * 1024)) + 1)
    expect(saver.stats.dataBlobs).toBe(data.length)
    expect(saver.stats.packs).toBe(packs)
    await expectStored(data)
    await resticOk(repoDir(), MOUNT_PASSWORD, ['check', '--read-data'])
  })

  it('puts the last blobs of every worker into one pack', async () => {
    const data = blobs('few', 12)
    const saver = new BlobSaver(repo, await repo.index())
    await saveAll(saver, data)
    await saver.flush()
    expect(await packCount()).toBe(1)
    await expectStored(data)
    await resticOk(repoDir(), MOUNT_PASSWORD, ['check', '--read-data'])
  })

  it('keeps the packs of two savers sharing the workers apart', async () => {
    const a = blobs('a', 40)
    const b = blobs('b', 40)
    const index = await repo.index()
    const sa = new BlobSaver(repo, index, { packSize: 200 * 1024 })
    const sb = new BlobSaver(repo, index, { packSize: 200 * 1024 })
    await Promise.all([saveAll(sa, a), saveAll(sb, b)])
    await Promise.all([sa.flush(), sb.flush()])
    // Each saver's packs hold its own blobs only.
    const packsOf = (saver: BlobSaver): Set<string> => new Set(saver.writtenPacks)
    const mine = (saver: BlobSaver, data: readonly Buffer[]): void => {
      for (const d of data) {
        const loc = index.lookup('data', hashId<BlobId>(d))
        expect(loc && packsOf(saver).has(loc.packId)).toBe(true)
      }
    }
    mine(sa, a)
    mine(sb, b)
    await expectStored([...a, ...b])
    await resticOk(repoDir(), MOUNT_PASSWORD, ['check', '--read-data'])
  })

  it('stores nothing of an aborted saver, and a later saver on the same workers is unaffected', async () => {
    const dropped = blobs('dropped', 10)
    const aborted = new BlobSaver(repo, await repo.index())
    await saveAll(aborted, dropped)
    await aborted.abort()
    expect(await packCount()).toBe(0)

    const kept = blobs('kept', 10)
    const saver = new BlobSaver(repo, await repo.index())
    await saveAll(saver, kept)
    await saver.flush()
    const index = await repo.index()
    expect(index.blobCount('data')).toBe(kept.length)
    for (const d of dropped) expect(index.has('data', hashId<BlobId>(d))).toBe(false)
    await expectStored(kept)
  })
})
