import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../helpers/api-harness.js'
import { ok, setupWorld, takeSnapshot, type World } from '../helpers/api-fixtures.js'
import { STORE_DIALECTS_UNDER_TEST } from '../helpers/test-store.js'

const BUSY = 'An activity is currently pending or in progress on the environment.'

describe.each(STORE_DIALECTS_UNDER_TEST)('concurrent requests on %s', (dialect) => {
  let s: TestServer
  let w: World
  const develop = '/api/projects/shop/environments/develop'

  beforeAll(async () => {
    s = await startTestServer(dialect, `concurrent-${dialect}`)
    w = await setupWorld(s)
  })
  afterAll(async () => {
    expect(s.watch.leaks()).toEqual([])
    await s.stop()
  })

  async function activityCount(): Promise<number> {
    const r = ok(await s.call('GET', `${develop}/activities`, { token: w.tokens.admin }))
    return (r.json as { items: unknown[] }).items.length
  }

  it('starts exactly one activity out of concurrent create requests', async () => {
    const before = await activityCount()
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        s.call('POST', `${develop}/backups`, {
          token: i % 2 ? w.tokens.admin : w.tokens.override,
          body: { live: i % 3 === 0 },
        }),
      ),
    )
    const started = replies.filter((r) => r.status === 202)
    const refused = replies.filter((r) => r.status === 409)
    expect(started).toHaveLength(1)
    expect(refused).toHaveLength(7)
    for (const r of refused) expect(r.json).toMatchObject({ code: 'env_busy', detail: BUSY })
    expect(await activityCount()).toBe(before + 1)
    const id = (started[0]!.json as { id: string }).id
    expect(await s.waitActivity('shop', id, w.tokens.admin)).toMatchObject({ result: 'success' })
  })

  it('starts exactly one of a snapshot, a restore and a delete asked for at once', async () => {
    const a = await takeSnapshot(s, w.tokens.admin, 'shop', 'develop')
    const b = await takeSnapshot(s, w.tokens.admin, 'shop', 'develop')
    const before = await activityCount()
    const token = w.tokens.admin
    const replies = await Promise.all([
      s.call('POST', `${develop}/backups`, { token, body: {} }),
      s.call('POST', `${develop}/backups/${a}/restore`, { token, body: {} }),
      s.call('DELETE', `${develop}/backups/${b}`, { token }),
      s.call('POST', `${develop}/backups`, { token, body: { live: true } }),
    ])
    expect(replies.map((r) => r.status).sort()).toEqual([202, 409, 409, 409])
    expect(await activityCount()).toBe(before + 1)
    const id = (replies.find((r) => r.status === 202)!.json as { id: string }).id
    expect(await s.waitActivity('shop', id, token)).toMatchObject({ result: 'success' })
  })
})
