import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { goTimeFromNs, SnapshotWriter } from '../../src/repo/index.js'
import { encodeSnapshot } from '../../src/repo/snapshot.js'
import { resticOk } from '../helpers/restic.js'
import { runCoffer } from '../helpers/run-coffer.js'
import { useTestRepos } from '../helpers/test-repos.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const PASSWORD = 'forget'
const HOUR = 3_600_000n * 1_000_000n
const repos = useTestRepos()

/** The keep and remove sets, per group, as restic's and Coffer's `forget --json` print them. */
type Groups = { host: string; keep: unknown[]; remove: unknown[] | null }[]
const ids = (xs: unknown[] | null): string[] =>
  (xs ?? []).map((x) => (typeof x === 'string' ? x : (x as { id: string }).id)).sort()

describe('forget policies decide exactly as restic does', () => {
  let tmp: { path: string; cleanup: () => Promise<void> }
  let repo: string

  beforeAll(async () => {
    tmp = await makeTempDir('forget')
    repo = repos.location(tmp.path, 'forget')
    const r = await repos.init(repo, PASSWORD)
    // One tree, many snapshot files with chosen times, for two hosts.
    const w = await SnapshotWriter.start(r)
    await w.writeFile(
      'data.txt',
      (async function* () {
        yield Buffer.from('x')
      })(),
    )
    const tree = (await w.commit({ paths: ['/data'], hostname: 'seed' })).tree
    const start = BigInt(Date.UTC(2025, 0, 1)) * 1_000_000n
    const times: bigint[] = []
    for (let i = 0; i < 24 * 40; i += 5) times.push(start + BigInt(i) * HOUR) // every 5 h for 40 days
    for (let m = 2; m < 14; m++) times.push(BigInt(Date.UTC(2025, m, 15, 12)) * 1_000_000n) // monthly
    for (const [i, t] of times.entries()) {
      const snap = encodeSnapshot({
        time: goTimeFromNs(t),
        tree,
        paths: ['/data'],
        hostname: i % 3 === 0 ? 'web2' : 'web1',
        tags: i % 7 === 0 ? ['keep'] : [],
      })
      await r.store.saveUnpacked('snapshots', snap)
    }
  })
  afterAll(() => tmp.cleanup())

  const policies = [
    ['--keep-last', '5'],
    ['--keep-hourly', '10'],
    ['--keep-daily', '7', '--keep-weekly', '4', '--keep-monthly', '6'],
    ['--keep-yearly', '1', '--keep-monthly', '5'],
    ['--keep-within', '10d'],
    ['--keep-within-daily', '1m', '--keep-within-weekly', '6m'],
    ['--keep-tag', 'keep', '--keep-last', '2'],
    ['--keep-daily', '3', '--host', 'web2'],
  ]
  it.each(policies.map((p) => [p.join(' '), p] as const))('%s', async (_name, policy) => {
    const theirs = JSON.parse(
      await resticOk(repo, PASSWORD, ['forget', '--dry-run', '--json', ...policy]),
    ) as Groups
    const r = await runCoffer(['repo:forget', '--repo', repo, '--dry-run', '--json', ...policy], {
      env: { COFFER_PASSWORD: PASSWORD },
    })
    expect(r.code, r.stderr).toBe(0)
    const ours = JSON.parse(r.stdout) as Groups
    const view = (gs: Groups) =>
      gs
        .map((g) => ({ host: g.host, keep: ids(g.keep), remove: ids(g.remove) }))
        .sort((a, b) => a.host.localeCompare(b.host))
    expect(view(ours)).toEqual(view(theirs))
  })

  it('keeps the oldest snapshot when a bucket count is not used up, as restic ≥ 0.16 does', async () => {
    // restic 0.14 (the oracle here) predates that rule; current restic keeps the oldest.
    const r = await runCoffer(
      [
        'repo:forget',
        '--repo',
        repo,
        '--dry-run',
        '--json',
        '--keep-yearly',
        '5',
        '--host',
        'web1',
      ],
      {
        env: { COFFER_PASSWORD: PASSWORD },
      },
    )
    const [group] = JSON.parse(r.stdout) as {
      keep: string[]
      reasons: { id: string; matches: string[] }[]
    }[]
    // Snapshots of 2025 and 2026: the newest of each year, and the oldest of all.
    expect(group!.keep).toHaveLength(3)
    expect(group!.reasons.map((x) => x.matches)).toEqual([
      ['yearly snapshot'],
      ['yearly snapshot'],
      ['oldest yearly snapshot'],
    ])
  })

  it('refuses a forget without a policy or IDs, as restic does', async () => {
    const r = await runCoffer(['repo:forget', '--repo', repo], {
      env: { COFFER_PASSWORD: PASSWORD },
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      'coffer: No policy given: name snapshots or pass at least one --keep-* option.\n',
    )
  })
})
