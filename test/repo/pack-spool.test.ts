import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Handle, PackSpool, SpooledFile } from '../../src/repo/backend/backend.js'
import { LocalBackend } from '../../src/repo/backend/index.js'
import { BlobLoader } from '../../src/repo/blob-loader.js'
import { BlobSaver } from '../../src/repo/blob-saver.js'
import { hashId, type BlobId } from '../../src/repo/id.js'
import { Repository } from '../../src/repo/index.js'
import { restic, resticOk } from '../helpers/restic.js'
import { runCoffer } from '../helpers/run-coffer.js'
import { seededBytes } from '../helpers/seeded-bytes.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const PASSWORD = 'spool'
const env = { COFFER_PASSWORD: PASSWORD }

/** A local backend that counts the packs adopted from its spool (the real adoption runs). */
class CountingLocalBackend extends LocalBackend {
  adopted = 0

  override get spool(): PackSpool {
    const real = super.spool
    return {
      ...real,
      adopt: async (h: Handle, file: SpooledFile) => {
        await real.adopt(h, file)
        this.adopted++
      },
    }
  }
}

// On a local repository the crypto workers write data packs into `<repo>/tmp` as they seal
// blobs, and the main thread renames each finished file into `data/` (PackSpool): nothing
// may stay behind there, whether the backup ends, is abandoned, or fails on a full disk.
describe('packs written through the spool of a local repository', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  const repoDir = (): string => join(tmp.path, 'repo')
  const spoolDir = (): string => join(repoDir(), 'tmp')

  beforeEach(async () => {
    tmp = await makeTempDir('pack-spool')
    const init = await runCoffer(['repo:init', '--repo', repoDir(), '--kdf', '1024,8,1'], { env })
    expect(init.code, init.stderr).toBe(0)
  })
  afterEach(() => tmp.cleanup())

  async function openRepo(): Promise<{ repo: Repository; backend: CountingLocalBackend }> {
    const backend = new CountingLocalBackend(repoDir())
    return { repo: await Repository.open({ backend, password: PASSWORD }), backend }
  }

  const blobs = (label: string, n: number): Buffer[] =>
    Array.from({ length: n }, (_, i) => seededBytes(`${label}-${i}`, 30_000 + 1009 * i))

  it('adopts every full pack from the spool and leaves the spool empty', async () => {
    const { repo, backend } = await openRepo()
    try {
      const data = blobs('full', 100)
      const saver = new BlobSaver(repo, await repo.index(), { packSize: 300 * 1024 })
      await Promise.all(data.map((d) => saver.saveUnhashed('data', new Uint8Array(d))))
      await saver.flush()
      // About 4.5 MB in packs of 300 KiB: every full one came through the spool.
      expect(backend.adopted).toBeGreaterThan(5)
      expect(saver.stats.packs).toBe(backend.adopted + 1)
      expect(await readdir(spoolDir())).toEqual([])
      const index = await repo.index()
      const loader = new BlobLoader(repo, index)
      for (const d of data)
        expect((await loader.load('data', hashId<BlobId>(d))).equals(d)).toBe(true)
    } finally {
      await repo.close()
    }
    await resticOk(repoDir(), PASSWORD, ['check', '--read-data'])
  })

  it('removes the spooled files of an abandoned saver, and refuses its late blobs', async () => {
    const { repo } = await openRepo()
    try {
      const saver = new BlobSaver(repo, await repo.index())
      await Promise.all(blobs('dropped', 12).map((d) => saver.saveUnhashed('data', d)))
      expect((await readdir(spoolDir())).length).toBeGreaterThan(0)
      await saver.abort()
      expect(await readdir(spoolDir())).toEqual([])
      await expect(saver.saveUnhashed('data', seededBytes('late', 40_000))).rejects.toThrow(
        'the backup saving this blob was abandoned',
      )
      expect(await readdir(spoolDir())).toEqual([])
      let packs = 0
      for await (const _ of repo.backend.list('data')) packs++
      expect(packs).toBe(0)
    } finally {
      await repo.close()
    }
  })

  it('fails a backup that fills the disk with the pack file named, and keeps no file of it', async () => {
    const src = join(tmp.path, 'src')
    await mkdir(src)
    for (let i = 0; i < 4; i++) await writeFile(join(src, `f${i}`), seededBytes(`big-${i}`, 8e6))
    // Every file the process writes stops at 6 MB: the first pack (16 MiB) cannot be written.
    const r = await runCoffer(['repo:backup', '--repo', repoDir(), src], {
      env,
      under: ['prlimit', '--fsize=6000000'],
    })
    expect(r.code, r.stdout).toBe(1)
    expect(r.stderr).toBe(`coffer: Cannot write a pack file in ${spoolDir()}: EFBIG.\n`)
    expect(await readdir(spoolDir())).toEqual([])
    const snaps = await runCoffer(['repo:snapshots', '--repo', repoDir(), '--json'], { env })
    expect(JSON.parse(snaps.stdout)).toEqual([])
    expect((await restic(repoDir(), PASSWORD, ['unlock'])).code).toBe(0)
    await resticOk(repoDir(), PASSWORD, ['check'])

    // With room again, the same backup works and restores byte for byte.
    const ok = await runCoffer(['repo:backup', '--repo', repoDir(), src], { env })
    expect(ok.code, ok.stderr).toBe(0)
    expect(await readdir(spoolDir())).toEqual([])
    await resticOk(repoDir(), PASSWORD, ['check', '--read-data'])
  })

  it('copies packs into a data/ on another filesystem than the spool', async () => {
    // data/ moved to a tmpfs and linked back: tmp/ and data/ are two filesystems (EXDEV).
    const elsewhere = await mkdtemp('/dev/shm/coffer-spool-data-')
    try {
      await rm(elsewhere, { recursive: true })
      await cp(join(repoDir(), 'data'), elsewhere, { recursive: true })
      await rm(join(repoDir(), 'data'), { recursive: true })
      await symlink(elsewhere, join(repoDir(), 'data'))
      const { repo, backend } = await openRepo()
      const data = blobs('exdev', 60)
      try {
        const saver = new BlobSaver(repo, await repo.index(), { packSize: 300 * 1024 })
        await Promise.all(data.map((d) => saver.saveUnhashed('data', new Uint8Array(d))))
        await saver.flush()
        expect(backend.adopted).toBeGreaterThan(2)
        expect(await readdir(spoolDir())).toEqual([])
        const loader = new BlobLoader(repo, await repo.index())
        for (const d of data)
          expect((await loader.load('data', hashId<BlobId>(d))).equals(d)).toBe(true)
      } finally {
        await repo.close()
      }
      await resticOk(repoDir(), PASSWORD, ['check', '--read-data'])
    } finally {
      await rm(elsewhere, { recursive: true, force: true })
    }
  })

  it('leaves files of a killed backup out of the repository until prune removes them', async () => {
    // What a backup killed mid-pack leaves: a named, unfinished file in the spool.
    const leftover = join(spoolDir(), `pack-4242-1-0123456789ab`)
    await writeFile(leftover, seededBytes('torn', 300_000))
    await resticOk(repoDir(), PASSWORD, ['check'])
    const check = await runCoffer(['repo:check', '--repo', repoDir()], { env })
    expect(check.code, check.stdout + check.stderr).toBe(0)

    const dry = await runCoffer(['repo:prune', '--repo', repoDir(), '--dry-run'], { env })
    expect(dry.code, dry.stderr).toBe(0)
    expect(await readdir(spoolDir())).toEqual(['pack-4242-1-0123456789ab'])
    const prune = await runCoffer(['repo:prune', '--repo', repoDir()], { env })
    expect(prune.code, prune.stderr).toBe(0)
    expect(prune.stdout).toContain('removed 1 unfinished pack files of interrupted backups')
    expect(await readdir(spoolDir())).toEqual([])
  })
})
