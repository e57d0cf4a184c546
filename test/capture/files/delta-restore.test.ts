import {
  appendFile,
  chmod,
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { restoreMount, stageRestore, type SwitchMode } from '../../../src/capture/index.js'
import { insideLockPath, mountLockPath } from '../../../src/capture/files/mount-lock.js'
import { CofferError } from '../../../src/errors.js'
import { RepoReader, treePath, type Repository } from '../../../src/repo/index.js'
import { describeTree, diffTrees, type Entry } from '../../helpers/dir-snapshot.js'
import { createRepo, snapshotMount, type MountSnapshot } from '../../helpers/mount-repo.js'
import { seededBytes } from '../../helpers/seeded-bytes.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

const SLACK = { mtimeSlackUs: 1n }
const FILES = 100
const SIZE = 20 * 1024
const name = (i: number): string => `img/${i % 10}/img${String(i).padStart(4, '0')}.jpg`

/** A small mount: 100 incompressible files in 10 directories, a symlink, a hard link. */
async function writeMount(dir: string): Promise<void> {
  for (let i = 0; i < FILES; i++) {
    await mkdir(join(dir, `img/${i % 10}`), { recursive: true })
    await writeFile(join(dir, name(i)), seededBytes(`img${i}`, SIZE))
  }
  await mkdir(join(dir, 'etc/empty'), { recursive: true })
  await writeFile(join(dir, 'etc/env.php'), "<?php return ['db' => 'shop'];\n")
  await symlink('env.php', join(dir, 'etc/env.link.php'))
  await link(join(dir, 'etc/env.php'), join(dir, 'etc/env.hard.php'))
}

/** Inode of every entry, by relative path. */
async function inodes(root: string, rel = ''): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>()
  for (const n of await readdir(join(root, rel))) {
    const p = rel ? `${rel}/${n}` : n
    const st = await lstat(join(root, p), { bigint: true })
    out.set(p, st.ino)
    if (st.isDirectory()) for (const [k, v] of await inodes(root, p)) out.set(k, v)
  }
  return out
}

const leftovers = async (dir: string): Promise<string[]> =>
  (await readdir(dir)).filter((n) => n.startsWith('.coffer-'))

describe('staged delta restore of a mount', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: Repository
  let reader: RepoReader
  let src: string
  let shot: MountSnapshot
  let want: Entry[]

  beforeAll(async () => {
    tmp = await makeTempDir('files-delta-restore')
    src = join(tmp.path, 'src')
    await writeMount(src)
    repo = await createRepo(tmp.path)
    shot = await snapshotMount(repo, src)
    reader = await RepoReader.open(repo)
    want = await describeTree(src)
  })
  afterAll(() => tmp.cleanup())

  /** A target that was restored from the snapshot, then changed as a running site would. */
  async function changedTarget(label: string): Promise<string> {
    const target = join(tmp.path, label, 'media')
    await restoreMount(reader, shot.tree, target, { rootNode: shot.node })
    expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
    // 1 % of the images rewritten, one appended to, one new file, one deleted, a directory
    // replaced by a file, the root's mode changed.
    await writeFile(join(target, name(7)), seededBytes('changed', SIZE))
    await appendFile(join(target, 'etc/env.php'), '// edited\n')
    await writeFile(join(target, 'img/3/new-upload.jpg'), 'new')
    await rm(join(target, name(42)))
    await rm(join(target, 'etc/empty'), { recursive: true })
    await writeFile(join(target, 'etc/empty'), 'now a file')
    return target
  }

  it.each(['whole', 'per-file'] as const)(
    'rewrites only what changed and keeps the inodes of the rest (%s switch)',
    async (switchMode: SwitchMode) => {
      const target = await changedTarget(`delta-${switchMode}`)
      const before = await inodes(target)
      const r = await restoreMount(reader, shot.tree, target, { rootNode: shot.node, switchMode })
      expect(r.mode).toBe(switchMode)
      expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
      // Read from the repository: the rewritten image, the deleted one, the edited file.
      const envSize = (await lstat(join(src, 'etc/env.php'))).size
      expect(r.bytesWritten).toBe(2 * SIZE + envSize)
      expect(r.totals.write).toBe(3)
      expect(r.totals.remove).toBe(1)
      const after = await inodes(target)
      const rewritten = new Set([name(7), name(42), 'etc/env.php', 'etc/env.hard.php'])
      for (let i = 0; i < FILES; i++) {
        const p = name(i)
        if (rewritten.has(p)) expect(after.get(p)).not.toBe(before.get(p))
        else expect(after.get(p), p).toBe(before.get(p))
      }
      expect(after.get('etc/env.link.php')).toBe(before.get('etc/env.link.php'))
      // Per-file keeps the mount root itself (a mount point cannot be replaced).
      if (switchMode === 'per-file') expect(after.get('.')).toBe(before.get('.'))
      expect(await leftovers(target)).toEqual([])
      expect(await leftovers(join(target, '..'))).toEqual([])
    },
  )

  it.each(['whole', 'per-file'] as const)(
    'puts back the extended attributes of a file whose content is unchanged, without reading it (%s switch)',
    async (switchMode: SwitchMode) => {
      const target = join(tmp.path, `xattr-${switchMode}`, 'media')
      await restoreMount(reader, shot.tree, target, { rootNode: shot.node })
      const file = join(target, name(3))
      execFileSync('setfattr', ['-n', 'user.added', '-v', 'by-site', '--', file])
      const attrs = (): string =>
        execFileSync('getfattr', ['--dump', '--match=-', '--absolute-names', file]).toString()
      expect(attrs()).toContain('user.added')
      const r = await restoreMount(reader, shot.tree, target, { rootNode: shot.node, switchMode })
      expect(r.totals.copy).toBe(1)
      expect(r.totals.write).toBe(0)
      expect(r.bytesWritten).toBe(0)
      expect(attrs()).toBe('')
      expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
    },
  )

  it('restoring an identical mount reads and writes nothing', async () => {
    const target = join(tmp.path, 'same', 'media')
    await restoreMount(reader, shot.tree, target, { rootNode: shot.node })
    const files = async (): Promise<[string, bigint][]> =>
      [...(await inodes(target))].filter(([p]) => p.endsWith('.jpg') || p.endsWith('.php'))
    const before = await files()
    const r = await restoreMount(reader, shot.tree, target, { rootNode: shot.node })
    expect(r.bytesWritten).toBe(0)
    expect(r.totals.write + r.totals.copy + r.totals.make + r.totals.remove).toBe(0)
    // Whole mode builds new directories around the same file inodes.
    expect(await files()).toEqual(before)
    expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
  })

  it('per file, sets the metadata only of directories that differ or had entries switched', async () => {
    const target = join(tmp.path, 'dir-meta', 'media')
    await restoreMount(reader, shot.tree, target, { rootNode: shot.node })
    // One directory's mode changed, one's mtime, one got a new file: each is put back; the
    // other seven image directories are not touched at all (their ctime stays).
    await chmod(join(target, 'img/1'), 0o700)
    await utimes(join(target, 'img/2'), new Date('2001-01-01'), new Date('2001-01-01'))
    await writeFile(join(target, 'img/3/upload.jpg'), 'new')
    const ctimes = async (): Promise<Map<string, bigint>> => {
      const out = new Map<string, bigint>()
      for (let d = 0; d < 10; d++)
        out.set(`img/${d}`, (await lstat(join(target, `img/${d}`), { bigint: true })).ctimeNs)
      return out
    }
    const before = await ctimes()
    // ctime has the clock's granularity: let it move on, so that a touch would show.
    await new Promise((r) => setTimeout(r, 20))
    const r = await restoreMount(reader, shot.tree, target, {
      rootNode: shot.node,
      switchMode: 'per-file',
    })
    expect(r.totals.remove).toBe(1)
    expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
    const after = await ctimes()
    for (let d = 0; d < 10; d++) {
      const k = `img/${d}`
      if (d >= 1 && d <= 3) expect(after.get(k), k).not.toBe(before.get(k))
      else expect(after.get(k), k).toBe(before.get(k))
    }
  })

  it('--verify-content finds a change that kept size and mtime', async () => {
    const target = join(tmp.path, 'verify', 'media')
    await restoreMount(reader, shot.tree, target, { rootNode: shot.node })
    const p = join(target, name(5))
    const st = await lstat(p, { bigint: true })
    await writeFile(p, seededBytes('same size, other bytes', SIZE))
    // Node sets times to the microsecond, truncating a double: aim at the middle of it.
    const sec = (ns: bigint): number => (Number(ns / 1000n) + 0.5) / 1e6
    await utimes(p, sec(st.atimeNs), sec(st.mtimeNs))
    const trusting = await restoreMount(reader, shot.tree, target, { rootNode: shot.node })
    expect(trusting.totals.write).toBe(0)
    const r = await restoreMount(reader, shot.tree, target, {
      rootNode: shot.node,
      verifyContent: true,
    })
    expect(r.totals.write).toBe(1)
    expect(r.totals.bytesVerified).toBeGreaterThanOrEqual(FILES * SIZE - 2 * SIZE)
    expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
  })

  it('restores only the included paths and leaves the rest as it is', async () => {
    const target = await changedTarget('include')
    const outside = await describeTree(join(target, 'img'))
    const r = await restoreMount(reader, shot.tree, target, {
      rootNode: shot.node,
      include: [treePath('etc')],
    })
    expect(r.totals.write).toBe(1)
    expect(
      diffTrees(
        await describeTree(join(target, 'etc')),
        await describeTree(join(src, 'etc')),
        SLACK,
      ),
    ).toEqual([])
    // Whole mode rebuilds the directories around kept files (times set again, within 1 µs).
    expect(diffTrees(await describeTree(join(target, 'img')), outside, SLACK)).toEqual([])
  })

  it('refuses clearly when the staged data would not fit, and changes nothing', async () => {
    const target = await changedTarget('no-space')
    const before = await describeTree(target)
    const err = await stageRestore(reader, shot.tree, target, {
      rootNode: shot.node,
      minFreeBytes: Number.MAX_SAFE_INTEGER,
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CofferError)
    expect((err as CofferError).code).toBe('no_space')
    expect((err as CofferError).message).toMatch(/Not enough free space .* nothing was changed\./)
    expect(diffTrees(await describeTree(target), before)).toEqual([])
    expect(await leftovers(join(target, '..'))).toEqual([])
  })

  it.each(['whole', 'per-file'] as const)(
    'does not switch when beforeSwitch fails: the staged restore is discarded (%s)',
    async (switchMode: SwitchMode) => {
      const target = await changedTarget(`before-switch-${switchMode}`)
      const before = await describeTree(target)
      let staged = false
      const err = await restoreMount(reader, shot.tree, target, {
        rootNode: shot.node,
        switchMode,
        beforeSwitch: async () => {
          staged =
            (await leftovers(target)).length + (await leftovers(join(target, '..'))).length > 0
          throw new CofferError('repo_locked', 'refused')
        },
      }).catch((e: unknown) => e)
      expect(staged).toBe(true)
      expect((err as CofferError).code).toBe('repo_locked')
      expect(diffTrees(await describeTree(target), before)).toEqual([])
      expect(await leftovers(target)).toEqual([])
      expect(await leftovers(join(target, '..'))).toEqual([])
    },
  )

  it.each(['whole', 'per-file'] as const)(
    'a staged restore that is discarded leaves the mount exactly as it was (%s)',
    async (switchMode: SwitchMode) => {
      const target = await changedTarget(`discard-${switchMode}`)
      const before = await describeTree(target)
      const staged = await stageRestore(reader, shot.tree, target, {
        rootNode: shot.node,
        switchMode,
      })
      expect(staged.totals.write).toBe(3)
      await staged.discard()
      expect(diffTrees(await describeTree(target), before)).toEqual([])
      expect(await leftovers(target)).toEqual([])
      expect(await leftovers(join(target, '..'))).toEqual([])
    },
  )

  it('switches file by file into a mount point, which stays mounted', async () => {
    const backing = join(tmp.path, 'bind', 'disk')
    const target = join(tmp.path, 'bind', 'media')
    await mkdir(backing, { recursive: true })
    await mkdir(target)
    await writeFile(join(backing, 'old.txt'), 'old')
    execFileSync('mount', ['--bind', backing, target])
    try {
      const whole = await restoreMount(reader, shot.tree, target, {
        rootNode: shot.node,
        switchMode: 'whole',
      }).catch((e: unknown) => e)
      expect((whole as CofferError).code).toBe('restore_failed')
      expect((whole as CofferError).message).toMatch(/file by file\. Nothing was changed\.$/)
      expect(await readdir(target)).toEqual(['old.txt'])
      expect(await leftovers(join(target, '..'))).toEqual([])
      const r = await restoreMount(reader, shot.tree, target, { rootNode: shot.node })
      expect(r.mode).toBe('per-file')
      expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
      // Written through the mount point onto the mounted filesystem.
      expect(diffTrees(await describeTree(backing), want, SLACK)).toEqual([])
    } finally {
      execFileSync('umount', [target])
    }
  })

  it('locks a mount point under a read-only parent from inside it, and restores it file by file', async () => {
    // /srv/shop read-only, /srv/shop/media a writable filesystem mounted there: the lock
    // cannot be beside the mount, so it is inside it, where captures and plans pass over it.
    const parent = join(tmp.path, 'ro', 'shop')
    const backing = join(tmp.path, 'ro', 'disk')
    const target = join(parent, 'media')
    await mkdir(target, { recursive: true })
    await mkdir(backing)
    await writeFile(join(backing, 'old.txt'), 'old')
    execFileSync('mount', ['--bind', parent, parent])
    try {
      execFileSync('mount', ['-o', 'remount,ro,bind', parent])
      execFileSync('mount', ['--bind', backing, target])
      try {
        const first = await stageRestore(reader, shot.tree, target, { rootNode: shot.node })
        expect(existsSync(insideLockPath(target))).toBe(true)
        expect(existsSync(mountLockPath(target))).toBe(false)
        const err = await restoreMount(reader, shot.tree, target, {
          rootNode: shot.node,
        }).catch((e: unknown) => e)
        expect((err as CofferError).code).toBe('conflict')
        expect((err as CofferError).message).toMatch(
          new RegExp(`^Another restore into ${target} is running \\(process ${process.pid}, `),
        )
        expect((err as CofferError).message).toContain(`remove ${insideLockPath(target)}.`)
        await first.switchIn()
        await first.cleanUp()
        expect(existsSync(insideLockPath(target))).toBe(false)
        expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
        expect(diffTrees(await describeTree(backing), want, SLACK)).toEqual([])
        // The next restore takes the lock again, passes over it, and leaves nothing behind.
        await writeFile(join(target, name(5)), 'changed after')
        const again = await restoreMount(reader, shot.tree, target, { rootNode: shot.node })
        expect(again.mode).toBe('per-file')
        expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
      } finally {
        execFileSync('umount', [target])
      }
    } finally {
      execFileSync('umount', [parent])
    }
  })

  it('never writes through a symlink planted in the target', async () => {
    const target = join(tmp.path, 'planted', 'media')
    await restoreMount(reader, shot.tree, target, { rootNode: shot.node })
    const outside = join(tmp.path, 'planted', 'outside')
    await mkdir(outside)
    await rm(join(target, 'img/1'), { recursive: true })
    await symlink(outside, join(target, 'img/1'))
    await rm(join(target, 'etc/env.php'))
    await symlink(join(outside, 'env.php'), join(target, 'etc/env.php'))
    for (const switchMode of ['per-file', 'whole'] as const) {
      await restoreMount(reader, shot.tree, target, { rootNode: shot.node, switchMode })
      expect(await readdir(outside)).toEqual([])
      expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
    }
  })
  it.each(['whole', 'per-file'] as const)(
    'refuses a second restore of the mount while one is staged, then lets the next one in (%s)',
    async (switchMode: SwitchMode) => {
      const target = await changedTarget(`locked-${switchMode}`)
      const first = await stageRestore(reader, shot.tree, target, {
        rootNode: shot.node,
        switchMode,
      })
      const before = await describeTree(target)
      const err = await restoreMount(reader, shot.tree, target, {
        rootNode: shot.node,
        switchMode,
      }).catch((e: unknown) => e)
      expect((err as CofferError).code).toBe('conflict')
      const held = JSON.parse(await readFile(mountLockPath(target), 'utf8')) as { started: string }
      expect((err as CofferError).message).toBe(
        `Another restore into ${target} is running (process ${process.pid}, since ${held.started}); nothing was changed. If none runs, remove ${mountLockPath(target)}.`,
      )
      // The refused restore touched neither the mount nor the first one's staging.
      expect(diffTrees(await describeTree(target), before)).toEqual([])
      await first.switchIn()
      await first.cleanUp()
      expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
      expect(await leftovers(join(target, '..'))).toEqual([])
      await writeFile(join(target, name(3)), 'changed after')
      await restoreMount(reader, shot.tree, target, { rootNode: shot.node, switchMode })
      expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
    },
  )

  it('takes over the lock of a restore whose process is gone', async () => {
    const target = await changedTarget('stale-lock')
    const gone = spawnSync('true').pid
    await writeFile(
      mountLockPath(target),
      JSON.stringify({ pid: gone, host: hostname(), started: new Date().toISOString() }),
    )
    await restoreMount(reader, shot.tree, target, { rootNode: shot.node })
    expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
    expect(await leftovers(join(target, '..'))).toEqual([])
  })
})
