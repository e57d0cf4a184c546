import { execFile } from 'node:child_process'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { prefetchRepoKey } from '../../src/cli/repo-tools/key-prefetch.js'
import { addRepoOptions } from '../../src/cli/repo-tools/repo-options.js'
import { startedScryptCount } from '../../src/lib/scrypt-derivation.js'
import { LocalBackend, Repository, TEST_KDF } from '../../src/repo/index.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const PASSWORD = 'prefetch pw'
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MAIN = fileURLToPath(new URL('../../src/cli/entry.ts', import.meta.url))

/** A repo:* command line as the CLI parses it. */
const parsed = (args: string[]): Command =>
  addRepoOptions(new Command('repo:snapshots').exitOverride()).parse(args, { from: 'user' })

describe("a repository key's early derivation (key-prefetch.ts)", () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: string
  const savedPassword = process.env.COFFER_PASSWORD

  beforeAll(async () => {
    tmp = await makeTempDir('key-prefetch')
    repo = join(tmp.path, 'repo')
    await Repository.init({
      backend: await LocalBackend.open(repo),
      password: PASSWORD,
      kdf: TEST_KDF,
    })
  })
  afterEach(() => {
    if (savedPassword === undefined) delete process.env.COFFER_PASSWORD
    else process.env.COFFER_PASSWORD = savedPassword
  })
  afterAll(() => tmp.cleanup())

  it('starts the derivation of a local repository key, which the open then takes', async () => {
    process.env.COFFER_PASSWORD = PASSWORD
    await prefetchRepoKey(parsed(['--repo', repo]))
    expect(startedScryptCount()).toBe(1)
    const opened = await Repository.open({
      backend: await LocalBackend.open(repo),
      password: PASSWORD,
    })
    expect(startedScryptCount()).toBe(0)
    expect(opened.config.id).toMatch(/^[0-9a-f]{64}$/)
  })

  it('reads the password from --password-file as the command does', async () => {
    delete process.env.COFFER_PASSWORD
    const file = join(tmp.path, 'pw')
    await writeFile(file, `${PASSWORD}\nsecond line\n`)
    await prefetchRepoKey(parsed(['--repo', `local:${repo}`, '--password-file', file]))
    expect(startedScryptCount()).toBe(1)
    await Repository.open({ backend: await LocalBackend.open(repo), password: PASSWORD })
    expect(startedScryptCount()).toBe(0)
  })

  it('reads a password file that can be read once only once (a pipe on standard input)', async () => {
    // A shell's pipe, as `echo … | coffer … --password-file /dev/stdin` gives (Node's own
    // stdin pipes are sockets, which /dev/stdin cannot open).
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        '/bin/sh',
        [
          '-c',
          'printf "%s\\n" "$PW" | exec "$NODE" --import tsx "$MAIN" repo:snapshots --repo "$REPO" --password-file /dev/stdin --json',
        ],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            COFFER_PASSWORD: '',
            PW: PASSWORD,
            NODE: process.execPath,
            MAIN,
            REPO: repo,
          },
        },
        (e, stdout, stderr) => resolve({ code: e ? Number(e.code) : 0, stdout, stderr }),
      )
    })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual([])
  })

  it('leaves a wrong password to the open, which refuses it', async () => {
    process.env.COFFER_PASSWORD = 'wrong'
    await prefetchRepoKey(parsed(['--repo', repo]))
    await expect(
      Repository.open({ backend: await LocalBackend.open(repo), password: 'wrong' }),
    ).rejects.toThrow(/Wrong password/)
    expect(startedScryptCount()).toBe(0)
  })

  it('starts nothing without a password, for S3, for a missing directory or a costly key', async () => {
    delete process.env.COFFER_PASSWORD
    await prefetchRepoKey(parsed(['--repo', repo]))
    process.env.COFFER_PASSWORD = PASSWORD
    await prefetchRepoKey(parsed(['--repo', 's3:https://127.0.0.1:1/bucket']))
    await prefetchRepoKey(parsed(['--repo', join(tmp.path, 'nothing')]))
    await prefetchRepoKey(parsed([]))

    const costly = join(tmp.path, 'costly')
    await mkdir(join(costly, 'keys'), { recursive: true })
    const [name] = await readdir(join(repo, 'keys'))
    const key = JSON.parse(await readFile(join(repo, 'keys', name!), 'utf8')) as object
    await writeFile(join(costly, 'keys', name!), JSON.stringify({ ...key, N: 2 ** 24 }))
    await writeFile(join(costly, 'keys', 'f'.repeat(64)), 'not json')
    await prefetchRepoKey(parsed(['--repo', costly]))
    expect(startedScryptCount()).toBe(0)
  })
})
