import { lstat, mkdir, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileCapture, restoreMount } from '../../../src/capture/index.js'
import { RepoReader, SnapshotWriter, type Repository } from '../../../src/repo/index.js'
import { describeTree, diffTrees, type Entry } from '../../helpers/dir-snapshot.js'
import {
  createRepo,
  mountTarget,
  snapshotMount,
  type MountSnapshot,
} from '../../helpers/mount-repo.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

/**
 * A mount whose path is a symbolic link into a shared directory, as deployments that keep
 * uploads across releases make `pub/media`: the snapshot holds the shared directory's
 * content, and a restore replaces that content and leaves the link as it is
 * (src/capture/files/mount-directory.ts).
 */
describe('a mount path that is a symbolic link', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let repo: Repository
  let shared: string
  let link: string
  let shot: MountSnapshot
  let want: Entry[]
  const SLACK = { mtimeSlackUs: 1n }

  /** The site changes its uploads: one changed, one added, one removed. */
  const changeUploads = async (): Promise<void> => {
    await writeFile(join(shared, 'a/1.jpg'), 'changed by the site')
    await writeFile(join(shared, 'new.jpg'), 'added by the site')
    await rm(join(shared, 'b/2.jpg'))
  }

  beforeAll(async () => {
    tmp = await makeTempDir('mount-link')
    shared = join(tmp.path, 'shared/pub/media')
    await mkdir(join(shared, 'a'), { recursive: true })
    await mkdir(join(shared, 'b'))
    await writeFile(join(shared, 'a/1.jpg'), 'one')
    await writeFile(join(shared, 'b/2.jpg'), 'two')
    await mkdir(join(tmp.path, 'release/pub'), { recursive: true })
    link = join(tmp.path, 'release/pub/media')
    // Relative, as deployment tools make them.
    await symlink('../../shared/pub/media', link)
    repo = await createRepo(tmp.path)
    shot = await snapshotMount(repo, link, { capture: { followRootLink: true } })
    want = await describeTree(shared)
  })
  afterAll(() => tmp.cleanup())

  it('captures the directory the link leads to', () => {
    expect(shot.node.type).toBe('dir')
    expect(shot.stats.filesNew).toBe(2)
  })

  it.each(['whole', 'per-file'] as const)(
    'restores into that directory and keeps the link (%s switch)',
    async (switchMode) => {
      await changeUploads()
      const r = await restoreMount(await RepoReader.open(repo), shot.tree, link, { switchMode })
      expect(r.mode).toBe(switchMode)
      expect((await lstat(link)).isSymbolicLink()).toBe(true)
      expect(await readlink(link)).toBe('../../shared/pub/media')
      expect(diffTrees(await describeTree(shared), want, SLACK)).toEqual([])
    },
  )

  it('creates the directory a dangling link leads to', async () => {
    await rm(join(tmp.path, 'shared'), { recursive: true })
    await restoreMount(await RepoReader.open(repo), shot.tree, link)
    expect((await lstat(link)).isSymbolicLink()).toBe(true)
    expect(
      diffTrees(await describeTree(shared), want, { ...SLACK, ignore: (p) => p === '' }),
    ).toEqual([])
  })

  it('is stored as a link, as restic stores one, by a capture that does not follow it', async () => {
    const writer = await SnapshotWriter.start(repo)
    const capture = new FileCapture(writer, { path: link, target: mountTarget('plain') }, {})
    await capture.preCopy()
    await capture.writeTree()
    const snap = await writer.commit({ paths: ['/mounts/plain'], hostname: 'shop' })
    const node = await (await RepoReader.open(repo)).lookup(snap.tree, mountTarget('plain'))
    expect(node?.type).toBe('symlink')
  })
})
