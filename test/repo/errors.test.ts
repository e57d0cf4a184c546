import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Repository } from '../../src/repo/index.js'
import { runCoffer } from '../helpers/run-coffer.js'
import { useTestRepos } from '../helpers/test-repos.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const PASSWORD = 'right'
const repos = useTestRepos()
const env = { COFFER_PASSWORD: PASSWORD }

describe('clear one-line refusals', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: string

  beforeAll(async () => {
    tmp = await makeTempDir('repo-errors')
    repo = repos.location(tmp.path, 'repo-errors')
    await repos.init(repo, PASSWORD)
  })
  afterAll(() => tmp.cleanup())

  it('names a wrong password and exits 12', async () => {
    const r = await runCoffer(['repo:snapshots', '--repo', repo], {
      env: { COFFER_PASSWORD: 'wrong' },
    })
    expect(r.code).toBe(12)
    expect(r.stderr).toBe(`coffer: Wrong password or no key found for the repository at ${repo}.\n`)
  })

  it('names a missing repository and exits 10', async () => {
    // On S3, a bucket that does not exist (a missing prefix in a bucket says the same).
    const missing = repos.location(tmp.path, 'nothing-here')
    const r = await runCoffer(['repo:snapshots', '--repo', missing], {
      env: { COFFER_PASSWORD: PASSWORD },
    })
    expect(r.code).toBe(10)
    expect(r.stderr).toBe(`coffer: There is no repository at ${missing}.\n`)
  })

  it('refuses to init over an existing repository and exits 13', async () => {
    const r = await runCoffer(['repo:init', '--repo', repo, '--kdf', '1024,8,1'], {
      env: { COFFER_PASSWORD: PASSWORD },
    })
    expect(r.code).toBe(13)
    expect(r.stderr).toBe(`coffer: A repository already exists at ${repo}.\n`)
  })

  it('names the holder of an exclusive lock and exits 11', async () => {
    const opened = await Repository.open({ backend: await repos.backend(repo), password: PASSWORD })
    const lock = await opened.lock(true)
    try {
      const src = join(tmp.path, 'src')
      await mkdir(src, { recursive: true })
      await writeFile(join(src, 'f'), 'x')
      const r = await runCoffer(['repo:backup', '--repo', repo, src], {
        env: { COFFER_PASSWORD: PASSWORD },
      })
      expect(r.code).toBe(11)
      expect(r.stderr).toMatch(
        new RegExp(
          `^coffer: The repository is already locked exclusively by PID ${process.pid} on \\S+ \\(user \\S+\\) since \\S+ \\(lock [0-9a-f]{8}\\)\\.\\n$`,
        ),
      )
    } finally {
      await lock.release()
    }
  })

  it('repo:restore under an exclusive lock exits 11 and writes nothing', async () => {
    const src = join(tmp.path, 'restore-src')
    await mkdir(src, { recursive: true })
    await writeFile(join(src, 'f'), 'x')
    const backup = await runCoffer(['repo:backup', '--repo', repo, src], {
      env: { COFFER_PASSWORD: PASSWORD },
    })
    expect(backup.code, backup.stderr).toBe(0)
    const opened = await Repository.open({ backend: await repos.backend(repo), password: PASSWORD })
    const lock = await opened.lock(true)
    try {
      for (const delta of [true, false]) {
        const target = join(tmp.path, `restore-locked-${delta}`)
        const r = await runCoffer(
          ['repo:restore', `latest:${src}`, '--target', target, '--repo', repo].concat(
            delta ? ['--delta'] : [],
          ),
          { env: { COFFER_PASSWORD: PASSWORD } },
        )
        expect(r.code, r.stderr).toBe(11)
        expect(r.stderr).toMatch(/^coffer: The repository is already locked exclusively by PID /)
        expect(existsSync(target)).toBe(false)
        expect((await readdir(tmp.path)).filter((n) => n.startsWith('.coffer'))).toEqual([])
      }
    } finally {
      await lock.release()
    }
  })

  it('refuses a restore target that is a file, with or without --delta', async () => {
    const src = join(tmp.path, 'file-target-src')
    await mkdir(src, { recursive: true })
    await writeFile(join(src, 'f'), 'x')
    expect((await runCoffer(['repo:backup', '--repo', repo, src], { env })).code).toBe(0)
    const target = join(tmp.path, 'a-file')
    await writeFile(target, 'not a directory')
    for (const delta of [false, true]) {
      const r = await runCoffer(
        ['repo:restore', `latest:${src}`, '--target', target, '--repo', repo].concat(
          delta ? ['--delta'] : [],
        ),
        { env },
      )
      expect(r.code, r.stderr).toBe(5)
      expect(r.stderr).toBe(`coffer: ${target} is not a directory; nothing was changed.\n`)
      expect(await readFile(target, 'utf8')).toBe('not a directory')
    }
  })

  it('warns of an --include path the snapshot does not have', async () => {
    const src = join(tmp.path, 'include-src')
    await mkdir(join(src, 'media'), { recursive: true })
    await writeFile(join(src, 'media/a.jpg'), 'image')
    const backup = await runCoffer(['repo:backup', '--repo', repo, '--json', src], { env })
    const id = (JSON.parse(backup.stdout) as { snapshot_id: string }).snapshot_id.slice(0, 8)
    for (const delta of [false, true]) {
      const target = join(tmp.path, `include-${delta}`)
      const r = await runCoffer(
        ['repo:restore', `${id}:${src}`, '--target', target, '--repo', repo]
          .concat(['--include', '/media/a.jpg', '--include', '/meida'])
          .concat(delta ? ['--delta'] : []),
        { env },
      )
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toBe(
        `warning: /meida is not in snapshot ${id}: ${delta ? 'the target will not have it either' : 'nothing is restored there'}\n`,
      )
      expect(await readFile(join(target, 'media/a.jpg'), 'utf8')).toBe('image')
    }
  })

  it('asks for a password when none is given, as a usage error', async () => {
    const r = await runCoffer(['repo:snapshots', '--repo', repo], {
      env: { COFFER_PASSWORD: undefined },
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      'coffer: No password given: use --password-file FILE or set COFFER_PASSWORD.\n',
    )
  })

  it('rejects a malformed snapshot ID', async () => {
    const r = await runCoffer(['repo:ls', '--repo', repo, 'not-an-id'], {
      env: { COFFER_PASSWORD: PASSWORD },
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      'coffer: Invalid snapshot ID "not-an-id": expected hex digits or "latest".\n',
    )
  })
})
