import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sampleRepositorySize } from '../../src/control/index.js'
import { ok, setupWorld, takeSnapshot, type World } from '../helpers/api-fixtures.js'
import { startTestServer, type TestServer } from '../helpers/api-harness.js'
import { seededBytes } from '../helpers/seeded-bytes.js'
import { STORE_DIALECTS_UNDER_TEST } from '../helpers/test-store.js'

interface Sample {
  taken_at: string
  stored_bytes: number
  packs: number
  snapshots: number
  snapshot_bytes: number
}
interface Health extends Omit<Sample, 'taken_at'> {
  location: string
}

const MINUTE = 60_000
const DAY = 24 * 3_600_000

/**
 * A project's repository size over time: a sample whenever the health figures are computed
 * and after each backup or deletion, at most one a minute, read back in time order.
 */
describe.each(STORE_DIALECTS_UNDER_TEST)('repository size history on %s', (dialect) => {
  let s: TestServer
  let w: World
  const repoPath = '/api/projects/shop/repository'
  const historyPath = `${repoPath}/history`

  const history = async (query = ''): Promise<Sample[]> =>
    (
      ok(await s.call('GET', historyPath + query, { token: w.tokens.admin })).json as {
        items: Sample[]
      }
    ).items
  const health = async (): Promise<Health> =>
    ok(await s.call('GET', repoPath, { token: w.tokens.admin })).json as Health
  /** The figures a sample holds, as the health reports them. */
  const figures = (h: Health): Omit<Sample, 'taken_at'> => ({
    stored_bytes: h.stored_bytes,
    packs: h.packs,
    snapshots: h.snapshots,
    snapshot_bytes: h.snapshot_bytes,
  })
  /** The sample after an activity is recorded once the activity is complete: wait for it. */
  const historyOf = async (length: number): Promise<Sample[]> => {
    await expect.poll(async () => (await history()).length, { timeout: 20_000 }).toBe(length)
    return history()
  }

  beforeAll(async () => {
    s = await startTestServer(dialect, `repo-history-${dialect}`)
    w = await setupWorld(s)
  })
  afterAll(() => s.stop())

  it('keeps the figures of each health request, one sample per minute', async () => {
    expect(await history()).toEqual([])
    const h = await health()
    expect(await history()).toEqual([{ taken_at: '2026-03-08T17:07:00.000Z', ...figures(h) }])
    // Again within the minute: the sample is replaced, not added.
    s.clock.advance(30_000)
    await health()
    expect(await history()).toHaveLength(1)
  })

  it('samples after a backup and after a deletion, oldest first', async () => {
    await writeFile(join(w.mounts['shop/develop']!, 'photo.bin'), seededBytes('photo', 1 << 20))
    s.clock.advance(2 * MINUTE)
    const snapshot = await takeSnapshot(s, w.tokens.admin, 'shop', 'develop')
    const [, afterBackup] = await historyOf(2)
    expect(afterBackup).toMatchObject({ taken_at: '2026-03-08T17:09:00.000Z', snapshots: 1 })
    expect(afterBackup!.stored_bytes).toBeGreaterThan(1 << 20)
    expect(afterBackup!.snapshot_bytes).toBeGreaterThanOrEqual(1 << 20)
    // The health, asked in the same minute, reports what the sample holds.
    expect(figures(await health())).toEqual(figures({ location: '', ...afterBackup! }))
    expect(await history()).toHaveLength(2)

    s.clock.advance(2 * MINUTE)
    const r = ok(
      await s.call('DELETE', `/api/projects/shop/environments/develop/backups/${snapshot}`, {
        token: w.tokens.admin,
      }),
      202,
    )
    const done = await s.waitActivity('shop', (r.json as { id: string }).id, w.tokens.admin)
    expect(done, JSON.stringify(done)).toMatchObject({ result: 'success' })
    const samples = await historyOf(3)
    expect(samples.map((x) => x.taken_at)).toEqual([
      '2026-03-08T17:07:00.000Z',
      '2026-03-08T17:09:00.000Z',
      '2026-03-08T17:11:00.000Z',
    ])
    // The prune removed the only snapshot's packs.
    expect(samples[2]).toMatchObject({ snapshots: 0, snapshot_bytes: 0 })
    expect(samples[2]!.stored_bytes).toBeLessThan(afterBackup!.stored_bytes)
  })

  it('goes back `days` days (30 by default)', async () => {
    s.clock.advance(3 * DAY)
    expect(await history('?days=1')).toEqual([])
    expect(await history('?days=7')).toHaveLength(3)
    expect(await history()).toHaveLength(3)
    s.clock.advance(30 * DAY)
    expect(await history()).toEqual([])
    expect(await history('?days=366')).toHaveLength(3)
  })

  it('leaves a gap, and fails nothing, when the repository cannot be listed', async () => {
    const { location } = await health()
    const before = await history('?days=366')
    s.clock.advance(5 * MINUTE)
    await rename(location, `${location}.away`)
    try {
      await expect(sampleRepositorySize('shop', s.coffer.control)).resolves.toBeUndefined()
    } finally {
      await rename(`${location}.away`, location)
    }
    expect(await history('?days=366')).toEqual(before)
    expect(s.logs.join('\n')).toContain('repository size not sampled')
  })

  it('answers only the project’s admins, as the repository’s health does', async () => {
    const cases = [
      {
        who: 'viewer',
        status: 403,
        code: 'not_admin',
        detail: 'You must be an administrator to see the repository.',
      },
      {
        who: 'contributor',
        status: 403,
        code: 'not_admin',
        detail: 'You must be an administrator to see the repository.',
      },
      {
        who: 'none',
        status: 403,
        code: 'forbidden',
        detail: 'You do not have access to the repository.',
      },
    ] as const
    for (const c of cases) {
      const r = await s.call('GET', historyPath, { token: w.tokens[c.who] })
      expect(r.status, r.text).toBe(c.status)
      expect(r.json).toMatchObject({ code: c.code, detail: c.detail })
    }
    const anonymous = await s.call('GET', historyPath)
    expect(anonymous.status, anonymous.text).toBe(401)
    const missing = await s.call('GET', '/api/projects/nowhere/repository/history', {
      token: w.tokens.admin,
    })
    expect(missing.status, missing.text).toBe(404)
    ok(await s.call('GET', historyPath, { token: w.tokens.operator }))
  })

  it('refuses a `days` that is not a whole number of days from 1 to 366', async () => {
    for (const days of ['0', '-1', 'abc', '1.5', '367', '']) {
      const r = await s.call('GET', `${historyPath}?days=${days}`, { token: w.tokens.admin })
      expect(r.status, `days=${days}: ${r.text}`).toBe(400)
      expect(r.json).toMatchObject({ code: 'invalid_input', field: 'days' })
    }
    expect(s.watch.leaks()).toEqual([])
  })
})
