import { spawnSync } from 'node:child_process'
import { chmod, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mountLockPath } from '../../src/capture/files/mount-lock.js'
import { stageRestore } from '../../src/capture/index.js'
import {
  LocalBackend,
  RepoReader,
  Repository,
  TEST_KDF,
  treePath,
  type Backend,
} from '../../src/repo/index.js'
import {
  cleanupStaging,
  createEnvironmentSnapshot,
  listEnvironmentSnapshots,
  previewRestore,
  restoreEnvironment,
  type EnvironmentSpec,
} from '../../src/snapshots/index.js'
import type { CofferError } from '../../src/errors.js'
import { describeTree, diffTrees } from '../helpers/dir-snapshot.js'
import { LoadCountingBackend } from '../helpers/load-counting-backend.js'
import { writeEdgeTree } from '../helpers/edge-tree.js'
import { testContext } from '../helpers/op-context.js'
import { resticOk } from '../helpers/restic.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const PASSWORD = 'env-snapshot-test'

describe('environment snapshots of mounts', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: Repository
  let env: EnvironmentSpec
  let hookLog: string

  beforeAll(async () => {
    tmp = await makeTempDir('env-snapshot')
    const media = join(tmp.path, 'shop/pub/media')
    const etc = join(tmp.path, 'shop/app/etc')
    await mkdir(media, { recursive: true })
    await mkdir(etc, { recursive: true })
    await writeEdgeTree(media, { bigBytes: 2 * 1024 * 1024 })
    await writeFile(join(etc, 'env.php'), "<?php return ['db' => 'shop'];\n")
    hookLog = join(tmp.path, 'hooks.log')
    env = {
      project: 'shop',
      name: 'develop',
      type: 'integration',
      services: [],
      mounts: [
        { name: 'pub/media', path: media },
        { name: 'app/etc', path: etc },
      ],
      hooks: { hold: `echo hold >> ${hookLog}`, release: `echo release >> ${hookLog}` },
    }
    repo = await Repository.init({
      backend: await LocalBackend.open(join(tmp.path, 'repo')),
      password: PASSWORD,
      kdf: TEST_KDF,
    })
  })
  afterAll(() => tmp.cleanup())

  it('takes a consistent snapshot inside the hooks and labels it for restic', async () => {
    const ctx = testContext()
    const info = await createEnvironmentSnapshot(
      repo,
      env,
      { live: false, automated: false, createdBy: 'alice' },
      ctx,
    )
    expect(info).toMatchObject({
      project: 'shop',
      environment: 'develop',
      live: false,
      automated: false,
      createdBy: 'alice',
    })
    expect(info.id).toMatch(/^[0-9a-f]{8}$/)
    expect(info.pauseMs).toBeGreaterThanOrEqual(0)
    expect(await readFile(hookLog, 'utf8')).toBe('hold\nrelease\n')
    expect(ctx.lines).toContain(`Created snapshot ${info.id}`)

    const snaps = JSON.parse(
      await resticOk(join(tmp.path, 'repo'), PASSWORD, ['snapshots', '--json']),
    ) as { short_id: string; hostname: string; tags: string[] }[]
    expect(snaps).toEqual([
      expect.objectContaining({
        short_id: info.id,
        hostname: 'shop',
        tags: ['coffer', 'env=develop', 'manual', 'consistent'],
      }),
    ])
    const manifest = JSON.parse(
      await resticOk(join(tmp.path, 'repo'), PASSWORD, ['dump', info.id, '/coffer.json']),
    ) as { mounts: { name: string; files: number }[] }
    expect(manifest.mounts.map((m) => m.name)).toEqual(['pub/media', 'app/etc'])
    expect(manifest.mounts[0]!.files).toBeGreaterThan(10)

    const listed = await listEnvironmentSnapshots(repo, 'shop', 'develop')
    expect(listed.map((s) => s.id)).toEqual([info.id])
  })

  it('restores changed, added and deleted files back to the snapshot', async () => {
    const media = env.mounts[0]!.path
    const before = await describeTree(media)
    const [snap] = await listEnvironmentSnapshots(repo, 'shop', 'develop')
    await writeFile(join(media, 'small.txt'), 'changed after the snapshot\n')
    await writeFile(join(media, 'new-upload.jpg'), 'new')
    await rm(join(media, 'docs'), { recursive: true })

    const preview = await previewRestore(repo, snap!.id, env, [], testContext())
    expect(preview.mounts.map((m) => m.mount)).toEqual(['pub/media', 'app/etc'])
    expect(preview.estimatedMs).toBeGreaterThanOrEqual(0)

    const result = await restoreEnvironment(
      repo,
      snap!.id,
      env,
      [{ kind: 'mount', mount: 'pub/media' }],
      testContext(),
    )
    // Delta: the changed file and the deleted folder's files are written, the rest kept.
    expect(result.filesWritten).toBeGreaterThanOrEqual(2)
    expect(result.filesKept).toBeGreaterThan(10)
    expect(diffTrees(await describeTree(media), before, { mtimeSlackUs: 1n })).toEqual([])
  })

  it('snapshots and restores a mount whose path links into a shared directory', async () => {
    // As deployment tools keep uploads across releases: the release's path is a link.
    const shared = join(tmp.path, 'shared/pub/media')
    await mkdir(join(shared, 'catalog'), { recursive: true })
    await writeFile(join(shared, 'catalog/1.jpg'), 'one')
    await mkdir(join(tmp.path, 'release/pub'), { recursive: true })
    const link = join(tmp.path, 'release/pub/media')
    await symlink('../../shared/pub/media', link)
    const linked: EnvironmentSpec = {
      ...env,
      name: 'linked',
      mounts: [{ name: 'pub/media', path: link }],
      hooks: {},
    }
    const before = await describeTree(shared)
    const info = await createEnvironmentSnapshot(
      repo,
      linked,
      { live: false, automated: false },
      testContext(),
    )
    await writeFile(join(shared, 'catalog/1.jpg'), 'changed by the site')
    await writeFile(join(shared, 'catalog/2.jpg'), 'added by the site')
    const preview = await previewRestore(repo, info.id, linked, [], testContext())
    // The snapshot holds the shared directory's one file, and both changes differ from it.
    expect(preview.mounts).toEqual([
      expect.objectContaining({ mount: 'pub/media', files: 1, changedFiles: 2 }),
    ])
    await restoreEnvironment(repo, info.id, linked, [], testContext())
    expect(await readlink(link)).toBe('../../shared/pub/media')
    expect(diffTrees(await describeTree(shared), before, { mtimeSlackUs: 1n })).toEqual([])
  })

  it('stages while its lock is confirmed, and switches nothing when an exclusive lock appears meanwhile', async () => {
    const media = env.mounts[0]!.path
    const [snap] = await listEnvironmentSnapshots(repo, 'shop', 'develop')
    await writeFile(join(media, 'small.txt'), 'changed again after the snapshot\n')
    const before = await describeTree(media)
    const locks = join(tmp.path, 'repo', 'locks')
    // Between the restore's lock and its second look (200 ms later), a prune takes its lock,
    // as a process that did not see the restore's lock yet would: planted by the backend as
    // soon as the restore's lock file is written, whatever the machine's load.
    let foreign: string | undefined
    const backend = new (class extends LoadCountingBackend {
      override save: Backend['save'] = async (h, d, o) => {
        await this.inner.save(h, d, o)
        if (h.type !== 'locks' || foreign !== undefined) return
        const json = JSON.stringify({
          time: new Date().toISOString(),
          exclusive: true,
          hostname: hostname(),
          username: 'prune',
          pid: process.pid,
        })
        foreign = await repo.store.saveUnpacked('locks', Buffer.from(json))
      }
    })(await LocalBackend.open(join(tmp.path, 'repo')))
    const planting = await Repository.open({ backend, password: PASSWORD })
    const ctx = testContext()
    const err = await restoreEnvironment(planting, snap!.id, env, [], ctx).catch((e: unknown) => e)
    await planting.close()
    await repo.backend.remove({ type: 'locks', name: foreign! })
    expect((err as CofferError).code).toBe('repo_locked')
    expect((err as CofferError).message).toMatch(
      /^The repository is already locked exclusively by PID/,
    )
    expect(ctx.lines.some((l) => l.startsWith('Switched in'))).toBe(false)
    expect(diffTrees(await describeTree(media), before)).toEqual([])
    expect((await readdir(join(media, '..'))).some((n) => n.startsWith('.coffer-'))).toBe(false)
    expect(await readdir(locks)).toEqual([])
    // Without the other lock, the same restore goes through.
    await restoreEnvironment(repo, snap!.id, env, [], testContext())
    expect(await readFile(join(media, 'small.txt'), 'utf8')).not.toContain('changed again')
  })

  it('takes a live snapshot without running the hooks, as the second of the environment', async () => {
    await writeFile(hookLog, '')
    const info = await createEnvironmentSnapshot(
      repo,
      env,
      { live: true, automated: true },
      testContext(),
    )
    expect(info).toMatchObject({ live: true, automated: true })
    expect(info.pauseMs).toBeUndefined()
    expect(await readFile(hookLog, 'utf8')).toBe('')
    const listed = await listEnvironmentSnapshots(repo, 'shop', 'develop')
    expect(listed.map((s) => s.id)).toEqual([info.id, expect.any(String)])
  })

  it('writes no snapshot and releases the hold when a mount cannot be read', async () => {
    await writeFile(hookLog, '')
    const locked = join(env.mounts[1]!.path, 'locked')
    await mkdir(locked)
    await writeFile(join(locked, 'x'), 'x')
    await chmod(locked, 0o000)
    const asRoot = process.getuid?.() === 0
    try {
      const before = (await listEnvironmentSnapshots(repo, 'shop', 'develop')).length
      const result = await createEnvironmentSnapshot(
        repo,
        env,
        { live: false, automated: false },
        testContext(),
      ).catch((e: unknown) => e)
      if (asRoot) {
        // root reads anything: the capture succeeds; the refusal is covered by the files driver's tests.
        expect(result).toMatchObject({ project: 'shop' })
      } else {
        expect((result as Error).message).toMatch(/^Cannot read .*locked: permission denied\.$/)
        expect((await listEnvironmentSnapshots(repo, 'shop', 'develop')).length).toBe(before)
      }
      expect(await readFile(hookLog, 'utf8')).toBe('hold\nrelease\n')
    } finally {
      await chmod(locked, 0o755)
      await rm(locked, { recursive: true })
    }
  })

  it('refuses to hold when the hold hook fails, and says which hook', async () => {
    const failing = { ...env, hooks: { hold: 'exit 3', release: `echo release >> ${hookLog}` } }
    await expect(
      createEnvironmentSnapshot(repo, failing, { live: false, automated: false }, testContext()),
    ).rejects.toThrow('The hold hook exited with 3.')
  })

  it('cleans what a restore killed before its switch left beside a mount', async () => {
    const media = env.mounts[0]!.path
    const before = await describeTree(media)
    // A restore staged and never switched, as a killed one leaves it.
    const [snap] = await listEnvironmentSnapshots(repo, 'shop', 'develop')
    const reader = await RepoReader.open(repo)
    const stored = await reader.findSnapshot(snap!.fullId)
    const tree = await reader.subtreeAt(stored.tree, treePath('mounts/pub/media'))
    await writeFile(join(media, 'changed-after.txt'), 'so the restore has work to stage')
    const during = await describeTree(media)
    await stageRestore(reader, tree!, media)
    expect((await readdir(join(media, '..'))).some((n) => n.startsWith('.coffer-'))).toBe(true)
    // Killed, it leaves its mount lock naming a process that is gone.
    await writeFile(
      mountLockPath(media),
      JSON.stringify({ pid: spawnSync('true').pid, host: hostname(), started: '' }),
    )
    const ctx = testContext()
    await cleanupStaging(env, ctx)
    expect(ctx.lines).toEqual(['Mount pub/media: an interrupted restore was rolled back'])
    expect(diffTrees(await describeTree(media), during)).toEqual([])
    expect((await readdir(join(media, '..'))).some((n) => n.startsWith('.coffer-'))).toBe(false)
    await rm(join(media, 'changed-after.txt'))
    expect(diffTrees(await describeTree(media), before)).toEqual([])
  })
})
