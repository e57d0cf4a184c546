import { execFileSync } from 'node:child_process'
import { chown, lstat, mkdir, readdir, utimes } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { restoreFiles, restoreMount } from '../../../src/capture/index.js'
import { LocalBackend, RepoReader, Repository } from '../../../src/repo/index.js'
import { describeTree, diffTrees, type Entry } from '../../helpers/dir-snapshot.js'
import { writeEdgeTree } from '../../helpers/edge-tree.js'
import {
  createRepo,
  MOUNT_PASSWORD,
  snapshotMount,
  type MountSnapshot,
} from '../../helpers/mount-repo.js'
import { resticOk } from '../../helpers/restic.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

const SLACK = { mtimeSlackUs: 1n }
/** restic 0.14 stores a symlink target that is not UTF-8 lossily (FORMAT-NOTES.md). */
const lossyInRestic014 = (p: string): boolean => p === 'link-latin1-target'
const isRoot = process.getuid?.() === 0

/** Every path's extended attributes, as getfattr dumps them relative to `root`. */
function xattrDump(root: string): string {
  const out = execFileSync(
    'getfattr',
    ['--recursive', '--physical', '--dump', '--match=-', '--no-dereference', '-e', 'base64', '.'],
    { cwd: root, env: { ...process.env, LC_ALL: 'C' } },
  )
  return out.toString('latin1')
}

/** uid:gid of every entry, by relative path (raw names as latin1, so any bytes work). */
async function owners(root: Buffer, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const dir = rel ? Buffer.concat([root, Buffer.from('/'), Buffer.from(rel, 'latin1')]) : root
  for (const n of (await readdir(dir, { encoding: 'buffer' })).sort((a, b) =>
    Buffer.compare(a, b),
  )) {
    const p = rel ? `${rel}/${n.toString('latin1')}` : n.toString('latin1')
    const st = await lstat(Buffer.concat([root, Buffer.from('/'), Buffer.from(p, 'latin1')]))
    out[p] = `${st.uid}:${st.gid}`
    if (st.isDirectory()) Object.assign(out, await owners(root, p))
  }
  return out
}

describe('files driver round trip', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: Repository
  let src: string
  let shot: MountSnapshot
  let want: Entry[]

  beforeAll(async () => {
    tmp = await makeTempDir('files-round-trip')
    src = join(tmp.path, 'media')
    await mkdir(src)
    await writeEdgeTree(src, { bigBytes: 3 * 1024 * 1024 })
    // Extended attributes on a file with an odd name, a directory, an empty value.
    const nl = Buffer.from(`${src}/names/new\nline`)
    execFileSync('setfattr', ['-n', 'user.origin', '-v', 'upload', '--', nl.toString()])
    execFileSync('setfattr', ['-n', 'user.empty', '--', join(src, 'small.txt')])
    execFileSync('setfattr', ['-n', 'user.bin', '-v', '0sAAECAwQ=', '--', join(src, 'docs')])
    // Owners that are not the restorer's, and a FIFO and a socket (skipped for mounts).
    if (isRoot) await chown(join(src, 'secret.key'), 1234, 5678)
    execFileSync('mkfifo', [join(src, 'queue.fifo')])
    // The socket exists while its server listens (closing the server removes it).
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(join(src, 'app.sock'), resolve))
    // Directory times last: creating entries moved them.
    await utimes(join(src, 'media/a'), 1_500_000_000, 1_500_000_000.5)
    repo = await createRepo(tmp.path)
    try {
      shot = await snapshotMount(repo, src)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
    want = await describeTree(src)
  })
  afterAll(() => tmp.cleanup())

  /** The source without what a mount capture skips (the FIFO; the socket is gone already). */
  const skipped = (p: string): boolean => p === 'queue.fifo' || p === 'app.sock'

  it('names the special files it skipped and stores everything else', () => {
    expect(shot.stats.skipped.map((p) => p.slice(src.length + 1)).sort()).toEqual([
      'app.sock',
      'queue.fifo',
    ])
    expect(shot.stats.vanished).toEqual([])
    expect(shot.stats.filesNew).toBeGreaterThan(20)
  })

  it.each(['whole', 'per-file'] as const)(
    'restores into a new directory exactly (%s switch)',
    async (switchMode) => {
      const target = join(tmp.path, `restore-${switchMode}`)
      const reader = await RepoReader.open(repo)
      const r = await restoreMount(reader, shot.tree, target, {
        switchMode,
        rootNode: shot.node,
      })
      expect(r.mode).toBe(switchMode)
      expect(r.totals.keep).toBe(0)
      expect(diffTrees(await describeTree(target), want, { ...SLACK, ignore: skipped })).toEqual([])
      expect(xattrDump(target)).toBe(xattrDump(src))
      if (isRoot)
        expect(await owners(Buffer.from(target))).toEqual(
          await owners(Buffer.from(src)).then(dropSkipped),
        )
      // Nothing of the staging is left beside or inside the target.
      expect((await readdir(tmp.path)).filter((n) => n.startsWith('.coffer-'))).toEqual([])
      expect((await readdir(target)).filter((n) => n.startsWith('.coffer-'))).toEqual([])
    },
  )

  it('restores the same tree with the plain restore (repo:restore without --delta)', async () => {
    const target = join(tmp.path, 'plain-restore')
    const stats = await restoreFiles(await RepoReader.open(repo), shot.tree, target)
    expect(stats.refused).toEqual([])
    // The plain restore leaves the target directory's own metadata alone, as restic does.
    const files = (p: string): boolean => skipped(p) || p === ''
    expect(diffTrees(await describeTree(target), want, { ...SLACK, ignore: files })).toEqual([])
    expect(xattrDump(target)).toBe(xattrDump(src))
  })

  it('makes FIFOs with names of any bytes in the plain restore', async () => {
    const dir = join(tmp.path, 'specials')
    await mkdir(dir)
    const odd = Buffer.concat([Buffer.from(`${dir}/pipe-`), Buffer.from([0xff, 0x0a])])
    execFileSync('xargs', ['-0', 'mkfifo', '--'], { input: Buffer.concat([odd, Buffer.from([0])]) })
    execFileSync('mkfifo', [join(dir, 'plain.fifo')])
    const stored = await snapshotMount(repo, dir, {
      name: 'specials',
      capture: { special: 'store' },
    })
    const target = join(tmp.path, 'specials-restored')
    await restoreFiles(await RepoReader.open(repo), stored.tree, target)
    const names = (await readdir(Buffer.from(target), { encoding: 'buffer' })).map((n) =>
      n.toString('latin1'),
    )
    expect(names.sort()).toEqual(['pipe-\xff\n', 'plain.fifo'].sort())
    for (const n of names) {
      const st = await lstat(Buffer.concat([Buffer.from(`${target}/`), Buffer.from(n, 'latin1')]))
      expect(st.isFIFO()).toBe(true)
    }
  })

  it('is restored by the real restic exactly as well', async () => {
    // restic 0.14 has no `ID:subfolder`: restore the mount's path and look below it.
    const out = join(tmp.path, 'restic-restore')
    await resticOk(join(tmp.path, 'repo'), MOUNT_PASSWORD, [
      'restore',
      shot.snap.id,
      '--include',
      '/mounts/media',
      '--target',
      out,
    ])
    const target = join(out, 'mounts/media')
    expect(
      diffTrees(await describeTree(target), want, {
        ignore: (p) => skipped(p) || lossyInRestic014(p),
      }),
    ).toEqual([])
    expect(xattrDump(target)).toBe(xattrDump(src))
  })

  it('restores a snapshot restic took of the same tree', async () => {
    const rrepo = join(tmp.path, 'restic-repo')
    const copy = join(tmp.path, 'copy-for-restic')
    await mkdir(copy)
    await writeEdgeTree(copy, { bigBytes: 1024 * 1024 })
    execFileSync('setfattr', ['-n', 'user.by', '-v', 'restic', '--', join(copy, 'small.txt')])
    const wanted = await describeTree(copy)
    await resticOk(rrepo, MOUNT_PASSWORD, ['init', '--repository-version', '2'])
    await resticOk(rrepo, MOUNT_PASSWORD, ['backup', copy])
    const theirs = await Repository.open({
      backend: await LocalBackend.open(rrepo),
      password: MOUNT_PASSWORD,
    })
    const reader = await RepoReader.open(theirs)
    const snap = await reader.findSnapshot('latest')
    const parts = copy
      .split('/')
      .filter(Boolean)
      .map((c) => Buffer.from(c))
    const node = await reader.lookup(snap.tree, parts)
    const target = join(tmp.path, 'from-restic')
    await restoreMount(reader, node!.subtree!, target, { rootNode: node! })
    expect(
      diffTrees(await describeTree(target), wanted, { ...SLACK, ignore: lossyInRestic014 }),
    ).toEqual([])
    expect(xattrDump(target)).toBe(xattrDump(copy))
  })
})

function dropSkipped(o: Record<string, string>): Record<string, string> {
  const { ['queue.fifo']: _f, ['app.sock']: _s, ...rest } = o
  void _f
  void _s
  return rest
}
