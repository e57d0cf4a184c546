import { execFileSync } from 'node:child_process'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { restoreFiles, restoreMount } from '../../../src/capture/index.js'
import type { CofferError } from '../../../src/errors.js'
import { RepoReader, treePath, type Repository } from '../../../src/repo/index.js'
import { describeTree, diffTrees, type Entry } from '../../helpers/dir-snapshot.js'
import { createRepo, snapshotMount, type MountSnapshot } from '../../helpers/mount-repo.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

const SLACK = { mtimeSlackUs: 1n }
const chattr = (flag: string, ...paths: string[]): void => {
  execFileSync('chattr', [flag, ...paths])
}
const flagsOf = (p: string): string => execFileSync('lsattr', ['-d', p]).toString().split(' ')[0]!

// Files flagged immutable or append-only (`chattr +i`, as some harden app/etc/env.php) can be
// neither renamed nor removed, not even by root. Before, a file-by-file switch stopped
// half-way on one, after its point of no return, and a whole switch failed with an internal
// error once the mount was restored, leaving its old version beside the mount.
describe('restoring a mount that holds immutable files', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: Repository
  let reader: RepoReader
  let src: string
  let shot: MountSnapshot
  let want: Entry[]

  beforeAll(async () => {
    tmp = await makeTempDir('files-immutable')
    src = join(tmp.path, 'src')
    await mkdir(join(src, 'etc'), { recursive: true })
    await mkdir(join(src, 'img'))
    await writeFile(join(src, 'etc/env.php'), "<?php return ['db' => 'shop'];\n")
    for (let i = 0; i < 5; i++) await writeFile(join(src, `img/${i}.jpg`), `image ${i}\n`)
    repo = await createRepo(tmp.path)
    shot = await snapshotMount(repo, src)
    reader = await RepoReader.open(repo)
    want = await describeTree(src)
  })
  afterAll(async () => {
    execFileSync('chattr', ['-R', '-i', '-a', tmp.path])
    await tmp.cleanup()
  })

  /** A copy of the mount with one image changed and one added; returns its path. */
  async function changedMount(label: string): Promise<string> {
    const target = join(tmp.path, label, 'mount')
    await mkdir(join(target, '..'), { recursive: true })
    // cp -a: times to the nanosecond, so that unchanged files are kept.
    execFileSync('cp', ['-a', src, target])
    await writeFile(join(target, 'img/0.jpg'), 'changed since\n')
    await writeFile(join(target, 'img/extra.jpg'), 'not in the snapshot\n')
    return target
  }
  const leftovers = async (dir: string): Promise<string[]> =>
    (await readdir(dir)).filter((n) => n.startsWith('.coffer-'))

  it.each([
    { what: 'an immutable file it would remove', flag: '+i', path: 'img/extra.jpg' },
    { what: 'an append-only file it would replace', flag: '+a', path: 'img/0.jpg' },
    { what: 'an immutable directory it would change', flag: '+i', path: 'img' },
  ])('refuses a file-by-file switch over $what, and changes nothing', async ({ flag, path }) => {
    const target = await changedMount(`refused-${flag}-${path.replace('/', '-')}`)
    chattr(flag, join(target, path))
    const before = await describeTree(target)
    const err = (await restoreMount(reader, shot.tree, target, {
      rootNode: shot.node,
      switchMode: 'per-file',
    }).catch((e: unknown) => e)) as CofferError
    expect(err.code).toBe('restore_failed')
    expect(err.message).toBe(
      `Cannot switch ${join(target, path)} file by file: it is immutable or append-only (chattr +i or +a), so it can be neither replaced nor removed. Remove the flag (chattr -i or -a) and restore again. Nothing was changed.`,
    )
    expect(diffTrees(await describeTree(target), before)).toEqual([])
    expect(await leftovers(target)).toEqual([])
    // Without the flag, the same restore goes through.
    chattr(flag.replace('+', '-'), join(target, path))
    const r = await restoreMount(reader, shot.tree, target, {
      rootNode: shot.node,
      switchMode: 'per-file',
    })
    expect(r.warnings).toEqual([])
    expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
  })

  it('stops the plain restore at an immutable file with the reason, leaving no partial file', async () => {
    const target = await changedMount('plain')
    const changed = join(target, 'img/0.jpg')
    chattr('+i', changed)
    const err = (await restoreFiles(reader, shot.tree, target).catch(
      (e: unknown) => e,
    )) as CofferError
    expect(err.code).toBe('restore_failed')
    expect(err.message).toBe(
      `The restore into ${target} stopped at ${changed}: the file system refuses to replace or remove it (immutable or append-only, chattr +i or +a?). The files it had not completed were removed, those completed stay.`,
    )
    expect(await readFile(changed, 'utf8')).toBe('changed since\n')
    expect((await readdir(join(target, 'img'))).filter((n) => n.startsWith('.coffer-'))).toEqual([])
  })

  it('keeps an unchanged immutable file in place, flag and all, file by file', async () => {
    const target = await changedMount('kept-per-file')
    chattr('+i', join(target, 'etc/env.php'))
    const r = await restoreMount(reader, shot.tree, target, {
      rootNode: shot.node,
      switchMode: 'per-file',
    })
    expect(r.warnings).toEqual([])
    expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
    expect(flagsOf(join(target, 'etc/env.php'))).toContain('i')
    expect(await leftovers(target)).toEqual([])
  })

  it('carries an immutable file outside the restored paths into a whole switch as a copy', async () => {
    const target = await changedMount('whole-include')
    const env = join(target, 'etc/env.php')
    await writeFile(join(target, 'etc/local.php'), 'outside the restored paths\n')
    chattr('+i', env)
    const r = await restoreMount(reader, shot.tree, target, {
      rootNode: shot.node,
      switchMode: 'whole',
      include: [treePath('img')],
    })
    expect(r.warnings[0]).toBe(
      `${env} is immutable or append-only (chattr +i or +a): the restored mount has a copy of it without the flag.`,
    )
    expect(await readFile(env, 'utf8')).toBe("<?php return ['db' => 'shop'];\n")
    expect(await readFile(join(target, 'etc/local.php'), 'utf8')).toBe(
      'outside the restored paths\n',
    )
    expect(await readdir(join(target, 'img'))).not.toContain('extra.jpg')
  })

  it('switches a whole mount holding an immutable file, copies it, and says what is left', async () => {
    const target = await changedMount('whole')
    const env = join(target, 'etc/env.php')
    chattr('+i', env)
    const r = await restoreMount(reader, shot.tree, target, {
      rootNode: shot.node,
      switchMode: 'whole',
    })
    expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
    const [old] = await leftovers(join(target, '..'))
    expect(old).toMatch(/^\.coffer-old-/)
    const oldDir = join(target, '..', old!)
    expect(r.warnings).toEqual([
      `${env} is immutable or append-only (chattr +i or +a): the restored mount has a copy of it without the flag.`,
      `The old version of the mount could not be removed from ${oldDir}: ${oldDir}/etc/env.php refuses it (an immutable or append-only file, chattr +i or +a?). Remove the flag (chattr -i) and the directory by hand.`,
    ])
    // Only the old version is left: the next restore says so, and restores.
    await writeFile(join(target, 'img/1.jpg'), 'changed again\n')
    const next = await restoreMount(reader, shot.tree, target, { rootNode: shot.node })
    expect(next.recovered).toEqual([
      expect.objectContaining({ mode: 'whole', outcome: 'left', warning: r.warnings[1] }),
    ])
    expect(diffTrees(await describeTree(target), want, SLACK)).toEqual([])
    // Once the flag is gone, the next restore removes it.
    chattr('-i', join(oldDir, 'etc/env.php'))
    const last = await restoreMount(reader, shot.tree, target, { rootNode: shot.node })
    expect(last.recovered).toEqual([
      expect.objectContaining({ mode: 'whole', outcome: 'completed' }),
    ])
    expect(await leftovers(join(target, '..'))).toEqual([])
    expect(await readFile(join(target, 'etc/env.php'), 'utf8')).toBe(
      "<?php return ['db' => 'shop'];\n",
    )
    await rm(join(target, '..'), { recursive: true })
  })
})
