import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeTree, diffTrees } from '../../helpers/dir-snapshot.js'
import { writeEdgeTree } from '../../helpers/edge-tree.js'
import { restic } from '../../helpers/restic.js'
import { runCoffer } from '../../helpers/run-coffer.js'
import { startS3Server, type S3TestServer } from '../../helpers/s3-server.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'

const PASSWORD = 'same bucket, two tools'
/** restic 0.14 stores a symlink target that is not UTF-8 lossily (FORMAT-NOTES.md). */
const lossyInRestic014 = (p: string): boolean => p === 'link-latin1-target'
/** Coffer sets times through doubles: within a microsecond (see diffTrees). */
const COFFER_SLACK = { mtimeSlackUs: 1n }

let server: S3TestServer
let tmp: { path: string; cleanup: () => Promise<void> }
let src: string

beforeAll(async () => {
  server = await startS3Server('restic-compat')
  tmp = await makeTempDir('s3-restic-compat')
  src = join(tmp.path, 'src')
  await mkdir(src)
  await writeEdgeTree(src, { bigBytes: 4 * 1024 * 1024 })
})
afterAll(async () => {
  await server?.stop()
  await tmp?.cleanup()
})

async function coffer(args: string[]): Promise<string> {
  const r = await runCoffer(args, { env: { ...server.env, COFFER_PASSWORD: PASSWORD } })
  if (r.code !== 0) throw new Error(`coffer ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

/** Debian's restic as an operator runs it: `--cacert`, credentials in the environment. */
async function resticOk(repo: string, args: string[]): Promise<string> {
  const env = {
    AWS_ACCESS_KEY_ID: server.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: server.env.AWS_SECRET_ACCESS_KEY,
  }
  const r = await restic(repo, PASSWORD, ['--cacert', server.caFile, ...args], { env })
  if (r.code !== 0) throw new Error(`restic ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

// End to end through the CLI on the edge-case tree, one process per command: minutes on a
// shared machine, hence the slow project. s3-restic-compat.test.ts is the in-process version.
describe('one S3 bucket, two tools, through the CLI', { timeout: 600_000 }, () => {
  it('Coffer writes under a prefix; restic checks every byte and restores it equal', async () => {
    const repo = `${server.freshLocation('coffer-writes')}/team/shop`
    await coffer(['repo:init', '--repo', repo, '--kdf', '1024,8,1'])
    const summary = JSON.parse(
      await coffer(['repo:backup', '--repo', repo, '--json', '--host', 'shop', src]),
    ) as { snapshot_id: string }
    await resticOk(repo, ['check', '--read-data'])
    const snaps = JSON.parse(await resticOk(repo, ['snapshots', '--json'])) as { id: string }[]
    expect(snaps.map((s) => s.id)).toEqual([summary.snapshot_id])
    const target = join(tmp.path, 'restic-restore')
    await resticOk(repo, ['restore', 'latest', '--target', target])
    expect(
      diffTrees(await describeTree(join(target, src)), await describeTree(src), {
        ignore: lossyInRestic014,
      }),
    ).toEqual([])
  })

  it('restic writes; Coffer checks every byte, restores it equal, and adds a snapshot restic accepts', async () => {
    const repo = `${server.freshLocation('restic-writes')}/restic`
    await resticOk(repo, ['init', '--repository-version', '2'])
    await resticOk(repo, ['backup', '--tag', 'nightly', src])
    const check = JSON.parse(
      await coffer(['repo:check', '--repo', repo, '--read-data', '--json']),
    ) as { num_errors: number; packs_read: number }
    expect(check.num_errors).toBe(0)
    expect(check.packs_read).toBeGreaterThan(0)
    const target = join(tmp.path, 'coffer-restore')
    await coffer(['repo:restore', '--repo', repo, 'latest', '--target', target])
    expect(
      diffTrees(await describeTree(join(target, src)), await describeTree(src), {
        ...COFFER_SLACK,
        ignore: lossyInRestic014,
      }),
    ).toEqual([])
    const second = JSON.parse(
      await coffer(['repo:backup', '--repo', repo, '--json', '--force', src]),
    ) as { data_blobs: number }
    expect(second.data_blobs).toBe(0)
    await resticOk(repo, ['check', '--read-data'])
    expect(JSON.parse(await resticOk(repo, ['snapshots', '--json']))).toHaveLength(2)
  })
})
