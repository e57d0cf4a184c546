import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InvalidInputError } from '../../src/errors.js'
import { LocalBackend, Repository, TEST_KDF } from '../../src/repo/index.js'
import {
  createEnvironmentSnapshot,
  listEnvironmentSnapshots,
  previewRestore,
  restoreEnvironment,
  type EnvironmentSpec,
} from '../../src/snapshots/index.js'
import { describeTree, diffTrees } from '../helpers/dir-snapshot.js'
import { testContext } from '../helpers/op-context.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

// Environments stored before mounts were checked at registration can still nest them: the
// snapshots layer refuses them itself, before it writes or switches anything.
describe('environments whose mounts overlap', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: Repository
  let env: EnvironmentSpec
  let nested: EnvironmentSpec
  const request = { live: false, automated: false, createdBy: 'alice' }

  beforeAll(async () => {
    tmp = await makeTempDir('mount-overlap')
    const pub = join(tmp.path, 'shop/pub')
    await mkdir(join(pub, 'media'), { recursive: true })
    await writeFile(join(pub, 'robots.txt'), 'User-agent: *\n')
    await writeFile(join(pub, 'media/a.jpg'), 'image')
    env = {
      project: 'shop',
      name: 'develop',
      type: 'integration',
      services: [],
      mounts: [{ name: 'pub/media', path: join(pub, 'media') }],
    }
    nested = { ...env, mounts: [...env.mounts, { name: 'pub', path: pub }] }
    repo = await Repository.init({
      backend: await LocalBackend.open(join(tmp.path, 'repo')),
      password: 'mount-overlap-test',
      kdf: TEST_KDF,
    })
  })
  afterAll(() => tmp.cleanup())

  it('takes no snapshot of them, and says why', async () => {
    const err = await createEnvironmentSnapshot(repo, nested, request, testContext()).catch(
      (e: unknown) => e as InvalidInputError,
    )
    expect(err).toMatchObject({
      code: 'invalid_input',
      field: 'mounts[0].name',
      message: 'The mount name pub/media is inside the mount name pub: mount names must not nest.',
    })
    expect(await listEnvironmentSnapshots(repo, 'shop', 'develop')).toEqual([])
    expect(await readdir(join(tmp.path, 'repo/locks'))).toEqual([])
  })

  it('neither previews nor restores into them, and changes nothing', async () => {
    await createEnvironmentSnapshot(repo, env, request, testContext())
    const [snap] = await listEnvironmentSnapshots(repo, 'shop', 'develop')
    await writeFile(join(env.mounts[0]!.path, 'a.jpg'), 'changed since')
    const before = await describeTree(join(tmp.path, 'shop'))
    const other = {
      ...nested,
      mounts: [{ name: 'media', path: env.mounts[0]!.path }, nested.mounts[1]!],
    }
    const message = `The path of the mount media (${env.mounts[0]!.path}) is inside the path of the mount pub (${nested.mounts[1]!.path}): mounts must not overlap.`
    for (const run of [
      () => previewRestore(repo, snap!.id, other, [], testContext()),
      () => restoreEnvironment(repo, snap!.id, other, [], testContext()),
    ]) {
      const err = await run().catch((e: unknown) => e as InvalidInputError)
      expect(err).toMatchObject({ code: 'invalid_input', field: 'mounts[0].path', message })
    }
    expect(diffTrees(await describeTree(join(tmp.path, 'shop')), before)).toEqual([])
    expect(await readdir(join(tmp.path, 'repo/locks'))).toEqual([])
  })
})
