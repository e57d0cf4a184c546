import { execFileSync } from 'node:child_process'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCoffer } from '../../helpers/run-coffer.js'
import { seededBytes } from '../../helpers/seeded-bytes.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

const PASSWORD = 'restore-space'
const env = { COFFER_PASSWORD: PASSWORD }
const MB = 1_000_000

// The plain restore (repo:restore without --delta) into a file system that is too small: a
// snapshot that cannot fit is refused before any file is written, and one that runs out of
// space while writing (the check counts a replaced file's blocks as freed, which they are
// only once its new version is complete) stops with the reason, keeps every file it had not
// completed as it was, and leaves no partial file. Before, it failed with "internal error (a
// bug; please report it)" and a stack. A tmpfs of 8 MiB stands for the full disk.
describe('the plain restore on a full file system', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let small: string
  let snapshot: string
  const src = (): string => join(tmp.path, 'src')
  const repo = (): string => join(tmp.path, 'repo')

  beforeAll(async () => {
    tmp = await makeTempDir('restore-space')
    small = join(tmp.path, 'small')
    await mkdir(small)
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', small])
    await mkdir(src())
    for (const f of ['a', 'b', 'c'])
      await writeFile(join(src(), f), seededBytes(`new-${f}`, 3 * MB))
    expect(
      (await runCoffer(['repo:init', '--repo', repo(), '--kdf', '1024,8,1'], { env })).code,
    ).toBe(0)
    const backup = await runCoffer(['repo:backup', '--repo', repo(), '--json', src()], { env })
    expect(backup.code, backup.stderr).toBe(0)
    snapshot = (JSON.parse(backup.stdout) as { snapshot_id: string }).snapshot_id
  })
  afterAll(async () => {
    execFileSync('umount', [small])
    await tmp.cleanup()
  })

  it('refuses a snapshot larger than the free space before writing any file', async () => {
    const target = join(small, 'empty')
    const r = await runCoffer(
      ['repo:restore', `${snapshot}:${src()}`, '--repo', repo(), '--target', target],
      { env },
    )
    expect(r.code, r.stdout).toBe(15)
    expect(r.stderr).toMatch(
      new RegExp(
        `^coffer: Not enough free space to restore into ${target}: 9007104 bytes needed, \\d+ free; no file was written \\(the snapshot's directories and links were made\\)\\.\\n$`,
      ),
    )
    expect(await readdir(target)).toEqual([])
  })

  it('stops with the reason when the space runs out while writing, and keeps what it had not completed', async () => {
    const target = join(small, 'full')
    await mkdir(target)
    // Older versions of two of the files fill 6 of the 8 MiB; the new ones replace them.
    for (const f of ['a', 'b']) await writeFile(join(target, f), seededBytes(`old-${f}`, 3 * MB))
    const r = await runCoffer(
      [
        'repo:restore',
        `${snapshot}:${src()}`,
        '--repo',
        repo(),
        '--target',
        target,
        '--include',
        '/a',
        '--include',
        '/b',
      ],
      { env },
    )
    expect(r.code, r.stdout).toBe(15)
    expect(r.stderr).toBe(
      `coffer: The restore into ${target} ran out of space on the device: the files it had not completed were removed, those completed stay.\n`,
    )
    // No temporary file is left; each file is either its old version or the snapshot's.
    expect((await readdir(target)).sort()).toEqual(['a', 'b'])
    for (const f of ['a', 'b']) {
      const content = await readFile(join(target, f))
      expect([seededBytes(`old-${f}`, 3 * MB), seededBytes(`new-${f}`, 3 * MB)]).toContainEqual(
        content,
      )
    }
  })
})
