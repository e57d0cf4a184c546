import { cp, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeTree, diffTrees } from '../helpers/dir-snapshot.js'
import { writeEdgeTree } from '../helpers/edge-tree.js'
import { resticOk } from '../helpers/restic.js'
import { runCoffer } from '../helpers/run-coffer.js'
import { useTestRepos } from '../helpers/test-repos.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const PASSWORD = 'correct horse battery staple'
const env = { COFFER_PASSWORD: PASSWORD }
const KDF = ['--kdf', '1024,8,1']
/** restic 0.14 stores a symlink target that is not UTF-8 lossily (FORMAT-NOTES.md). */
const lossyInRestic014 = (p: string): boolean => p === 'link-latin1-target'
/** Coffer sets times through doubles: within a microsecond (see diffTrees). */
const COFFER_SLACK = { mtimeSlackUs: 1n }

const repos = useTestRepos()

/** Runs coffer and fails the test with its stderr when it does not succeed. */
async function coffer(args: string[]): Promise<string> {
  const r = await runCoffer(args, { env })
  if (r.code !== 0) throw new Error(`coffer ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

describe('Coffer writes, restic reads', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: string
  let src: string

  beforeAll(async () => {
    tmp = await makeTempDir('coffer-writes')
    repo = repos.location(tmp.path, 'coffer-writes')
    src = join(tmp.path, 'src')
    await mkdir(src)
    await writeEdgeTree(src)
    await coffer(['repo:init', '--repo', repo, ...KDF])
  })
  afterAll(() => tmp.cleanup())

  it('backs up a tree that restic checks, lists and restores byte for byte', async () => {
    const summary = JSON.parse(
      await coffer([
        'repo:backup',
        '--repo',
        repo,
        '--json',
        '--tag',
        'first',
        '--host',
        'shop',
        src,
      ]),
    ) as {
      snapshot_id: string
      files_new: number
    }
    expect(summary.files_new).toBeGreaterThan(10)

    await resticOk(repo, PASSWORD, ['check', '--read-data'])
    const snaps = JSON.parse(await resticOk(repo, PASSWORD, ['snapshots', '--json'])) as {
      id: string
      short_id: string
      hostname: string
      tags: string[]
      paths: string[]
    }[]
    expect(snaps).toHaveLength(1)
    expect(snaps[0]).toMatchObject({
      id: summary.snapshot_id,
      hostname: 'shop',
      tags: ['first'],
      paths: [src],
    })

    const target = join(tmp.path, 'restic-restore')
    await resticOk(repo, PASSWORD, ['restore', snaps[0]!.short_id, '--target', target])
    expect(
      diffTrees(await describeTree(join(target, src)), await describeTree(src), {
        ignore: lossyInRestic014,
      }),
    ).toEqual([])

    const resticLs = (await resticOk(repo, PASSWORD, ['ls', 'latest']))
      .split('\n')
      .slice(1)
      .filter(Boolean)
    const cofferLs = (await coffer(['repo:ls', '--repo', repo, 'latest']))
      .split('\n')
      .slice(1)
      .filter(Boolean)
    expect(cofferLs).toEqual(resticLs)
  })

  it('restores its own snapshot exactly, and a second backup adds nothing', async () => {
    const target = join(tmp.path, 'coffer-restore')
    await coffer(['repo:restore', '--repo', repo, 'latest', '--target', target])
    expect(
      diffTrees(await describeTree(join(target, src)), await describeTree(src), COFFER_SLACK),
    ).toEqual([])

    const second = JSON.parse(
      await coffer(['repo:backup', '--repo', repo, '--json', '--host', 'shop', src]),
    ) as {
      files_unmodified: number
      data_blobs: number
      bytes_read: number
    }
    // Only trees can be new (the directories above src changed as other tests wrote to /tmp).
    expect(second.data_blobs).toBe(0)
    expect(second.bytes_read).toBe(0)
    expect(second.files_unmodified).toBeGreaterThan(10)
  })

  it('forgets and prunes, leaving a repository restic checks and restores', async () => {
    await cp(join(src, 'small.txt'), join(src, 'added-later.txt'))
    await coffer(['repo:backup', '--repo', repo, '--host', 'shop', src])
    await coffer(['repo:forget', '--repo', repo, '--keep-last', '1'])
    await coffer(['repo:prune', '--repo', repo, '--max-unused', '0'])
    await resticOk(repo, PASSWORD, ['check', '--read-data'])
    await coffer(['repo:check', '--repo', repo, '--read-data'])
    const target = join(tmp.path, 'after-prune')
    await resticOk(repo, PASSWORD, ['restore', 'latest', '--target', target])
    expect(
      diffTrees(await describeTree(join(target, src)), await describeTree(src), {
        ignore: lossyInRestic014,
      }),
    ).toEqual([])
  })
})

describe.each([1, 2])('restic writes (repository version %i), Coffer reads', (version) => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: string
  let src: string

  beforeAll(async () => {
    tmp = await makeTempDir(`restic-writes-v${version}`)
    repo = repos.location(tmp.path, `restic-writes-v${version}`)
    src = join(tmp.path, 'src')
    await mkdir(src)
    await writeEdgeTree(src)
    await resticOk(repo, PASSWORD, ['init', '--repository-version', String(version)])
    await resticOk(repo, PASSWORD, ['backup', '--tag', 'nightly', src])
  })
  afterAll(() => tmp.cleanup())

  it('lists, checks and restores what restic stored', async () => {
    const resticSnaps = JSON.parse(await resticOk(repo, PASSWORD, ['snapshots', '--json'])) as {
      id: string
      tree: string
      paths: string[]
    }[]
    const cofferSnaps = JSON.parse(await coffer(['repo:snapshots', '--repo', repo, '--json'])) as {
      id: string
      tree: string
      paths: string[]
    }[]
    expect(cofferSnaps.map((s) => [s.id, s.tree, s.paths])).toEqual(
      resticSnaps.map((s) => [s.id, s.tree, s.paths]),
    )

    const check = JSON.parse(
      await coffer(['repo:check', '--repo', repo, '--read-data', '--json']),
    ) as { num_errors: number; packs_read: number }
    expect(check.num_errors).toBe(0)
    expect(check.packs_read).toBeGreaterThan(0)

    const target = join(tmp.path, 'coffer-restore')
    await coffer([
      'repo:restore',
      '--repo',
      repo,
      resticSnaps[0]!.id.slice(0, 8),
      '--target',
      target,
    ])
    expect(
      diffTrees(await describeTree(join(target, src)), await describeTree(src), {
        ...COFFER_SLACK,
        ignore: lossyInRestic014,
      }),
    ).toEqual([])

    const dumped = await runCoffer(
      ['repo:dump', '--repo', repo, 'latest', join(src, 'small.txt')],
      { env },
    )
    expect(dumped.stdout).toBe('hello, coffer\n')
  })

  it('adds no data blobs when Coffer backs up what restic already stored', async () => {
    const summary = JSON.parse(
      await coffer(['repo:backup', '--repo', repo, '--json', '--force', src]),
    ) as { data_blobs: number; data_added: number; bytes_read: number }
    expect(summary.bytes_read).toBeGreaterThan(10 * 1024 * 1024)
    expect(summary.data_blobs).toBe(0)
    await resticOk(repo, PASSWORD, ['check', '--read-data'])
  })
})
