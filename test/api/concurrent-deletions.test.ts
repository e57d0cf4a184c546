import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { schedulerTick } from '../../src/control/index.js'
import { startTestServer, type TestServer } from '../helpers/api-harness.js'
import { ok, setupWorld, takeSnapshot, type World } from '../helpers/api-fixtures.js'
import { STORE_DIALECTS_UNDER_TEST } from '../helpers/test-store.js'

const DAY = 86_400_000

// Deletions prune under an exclusive lock. Two started at the same moment on one repository
// (as one scheduler tick starts them for several environments) see each other's lock, both
// step back, and must not keep colliding: each ends, one after the other.
describe.each(STORE_DIALECTS_UNDER_TEST)('deletions at the same moment on %s', (dialect) => {
  let s: TestServer
  let w: World

  beforeAll(async () => {
    s = await startTestServer(dialect, `deletions-${dialect}`)
    w = await setupWorld(s)
  })
  afterAll(async () => {
    expect(s.watch.leaks()).toEqual([])
    await s.stop()
  })

  it('both complete, round after round', async () => {
    const token = w.tokens.admin
    for (let round = 0; round < 3; round++) {
      const develop = await takeSnapshot(s, token, 'shop', 'develop')
      const staging = await takeSnapshot(s, token, 'shop', 'staging')
      // Past the restore window: one tick starts the expiry of both, and the worker starts
      // both deletions in the same instant.
      s.clock.advance(8 * DAY)
      const tick = await schedulerTick(s.coffer.control)
      expect(tick.deletions.map((d) => d.environment).sort()).toEqual(['develop', 'staging'])
      const list = ok(
        await s.call('GET', '/api/projects/shop/activities?type=environment.backup.delete', {
          token,
        }),
      ).json as { items: { id: string; state: string }[] }
      const open = list.items.filter((a) => a.state === 'pending' || a.state === 'in_progress')
      expect(open).toHaveLength(2)
      for (const a of open)
        expect(await s.waitActivity('shop', a.id, token)).toMatchObject({ result: 'success' })
      for (const [env, id] of [
        ['develop', develop],
        ['staging', staging],
      ]) {
        const backups = ok(
          await s.call('GET', `/api/projects/shop/environments/${env}/backups`, { token }),
        ).json as { items: { id: string; restorable: boolean }[] }
        expect(backups.items.find((b) => b.id === id)).toMatchObject({ restorable: false })
      }
    }
  }, 240_000)
})
