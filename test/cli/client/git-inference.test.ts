import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findCheckout, resolveTarget } from '../../../src/cli/client/index.js'
import { startTestServer, type TestServer } from '../../helpers/api-harness.js'
import { setupWorld, type World } from '../../helpers/api-fixtures.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import { cli } from './cli-process.js'

/** A git checkout as git leaves it, written by hand: `.git/HEAD` naming a branch. */
async function checkout(dir: string, branch: string): Promise<void> {
  await mkdir(join(dir, '.git'), { recursive: true })
  await writeFile(join(dir, '.git', 'HEAD'), `ref: refs/heads/${branch}\n`)
}

describe('git checkout inference', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  beforeAll(async () => {
    tmp = await makeTempDir('cli-git')
  })
  afterAll(async () => {
    await tmp.cleanup()
  })

  it('finds the top of the checkout and its branch from a subdirectory', async () => {
    const root = join(tmp.path, 'plain')
    await checkout(root, 'develop')
    await mkdir(join(root, 'app', 'code'), { recursive: true })
    expect(await findCheckout(join(root, 'app', 'code'))).toEqual({ root, branch: 'develop' })
  })

  it('follows a .git file (worktree) and reports no branch when detached', async () => {
    const main = join(tmp.path, 'main-repo')
    const wt = join(tmp.path, 'worktree')
    await mkdir(join(main, '.git', 'worktrees', 'wt'), { recursive: true })
    await writeFile(join(main, '.git', 'worktrees', 'wt', 'HEAD'), 'ref: refs/heads/feature-x\n')
    await mkdir(wt, { recursive: true })
    await writeFile(join(wt, '.git'), `gitdir: ${join(main, '.git', 'worktrees', 'wt')}\n`)
    expect(await findCheckout(wt)).toEqual({ root: wt, branch: 'feature-x' })
    await writeFile(join(main, '.git', 'worktrees', 'wt', 'HEAD'), 'a'.repeat(40) + '\n')
    expect(await findCheckout(wt)).toEqual({ root: wt, branch: undefined })
  })

  it('flags win over the checkout; another project does not take the branch', async () => {
    const root = join(tmp.path, 'flags')
    await checkout(root, 'staging')
    await mkdir(join(root, '.coffer'))
    await writeFile(join(root, '.coffer', 'config.yaml'), "project: 'shop' # ours\n")
    expect(await resolveTarget({}, root)).toEqual({ project: 'shop', environment: 'staging' })
    expect(await resolveTarget({ environment: 'develop' }, root)).toEqual({
      project: 'shop',
      environment: 'develop',
    })
    expect(await resolveTarget({ project: 'other' }, root)).toEqual({
      project: 'other',
      environment: undefined,
    })
  })

  it('without flags or checkout: a usage error that says what to do', async () => {
    await expect(resolveTarget({}, tmp.path)).rejects.toThrow(
      'No project given: use -p PROJECT, or run coffer project:set-remote PROJECT in the project’s git checkout.',
    )
  })
})

describe('project:set-remote, then commands without -p/-e', () => {
  let s: TestServer
  let world: World
  let code: { path: string; cleanup: () => Promise<void> }
  beforeAll(async () => {
    s = await startTestServer('sqlite', 'cli-set-remote')
    world = await setupWorld(s)
    code = await makeTempDir('cli-checkout')
    await checkout(code.path, 'develop')
    await mkdir(join(code.path, 'app'))
  })
  afterAll(async () => {
    await code?.cleanup()
    await s?.stop()
  })

  it('writes .coffer/config.yaml and takes the environment from the branch', async () => {
    const env = { COFFER_URL: s.url, COFFER_TOKEN: world.tokens.admin }
    const set = await cli(['project:set-remote', 'shop'], { env, cwd: join(code.path, 'app') })
    expect(set.code, set.stderr).toBe(0)
    expect(set.stderr).toBe(
      `The code in ${code.path} now belongs to the project shop (${join(code.path, '.coffer', 'config.yaml')}); environment: develop.\n`,
    )
    expect(await readFile(join(code.path, '.coffer', 'config.yaml'), 'utf8')).toBe(
      '# The Coffer project of this code; the environment is the checked-out branch.\nproject: shop\n',
    )
    const created = await cli(['backup', '-q'], { env, cwd: join(code.path, 'app') })
    expect(created.code, created.stderr).toBe(0)
    expect(created.stderr).toBe('')
    const id = created.stdout.trim()
    expect(id).toMatch(/^[0-9a-f]{8}$/)
    const listed = await cli(['snapshots', '--format', 'plain', '-c', 'id,created_by'], {
      env,
      cwd: code.path,
    })
    expect(listed.stdout).toBe(`Snapshot ID  Created by\n${id}     alice\n`)
    // Another branch is another environment.
    await checkout(code.path, 'feature')
    const other = await cli(['snapshots'], { env, cwd: code.path })
    expect(other.code).toBe(0)
    expect(other.stderr).toBe('No snapshots found\n')
  }, 180_000)

  it('refuses a project that does not exist, and writes nothing', async () => {
    const dir = await makeTempDir('cli-checkout-2')
    try {
      await checkout(dir.path, 'develop')
      const r = await cli(['project:set-remote', 'nope'], {
        env: { COFFER_URL: s.url, COFFER_TOKEN: world.tokens.admin },
        cwd: dir.path,
      })
      expect(r.code).toBe(3)
      await expect(readFile(join(dir.path, '.coffer', 'config.yaml'))).rejects.toThrow(/ENOENT/)
    } finally {
      await dir.cleanup()
    }
  })
})
