import { existsSync } from 'node:fs'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Repository } from '../../src/repo/index.js'
import { runCoffer } from '../helpers/run-coffer.js'
import { useTestRepos } from '../helpers/test-repos.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const PASSWORD = 'right'
const repos = useTestRepos()

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
