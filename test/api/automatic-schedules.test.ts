import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { syncAutomaticSchedules } from '../../src/control/index.js'
import { STORE_DIALECTS_UNDER_TEST } from '../helpers/test-store.js'
import { ok } from '../helpers/api-fixtures.js'
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/api-harness.js'

interface Schedule {
  kind: string
  cron: string
}

/** Pro staging and production have their hourly schedule from the moment they qualify. */
describe.each(STORE_DIALECTS_UNDER_TEST)('automatic schedules on %s', (dialect) => {
  let s: TestServer
  let token: string
  const schedules = async (env: string): Promise<Schedule[]> =>
    (
      ok(await s.call('GET', `/api/projects/pro/environments/${env}/schedules`, { token }))
        .json as { items: Schedule[] }
    ).items

  beforeAll(async () => {
    s = await startTestServer(dialect, `auto-schedules-${dialect}`)
    token = await s.login('admin', ADMIN_PASSWORD)
    ok(await s.call('POST', '/api/projects', { token, body: { id: 'pro', plan: 'pro' } }), 201)
  })
  afterAll(() => s.stop())

  it('appear with the environment, follow its type and the plan, and never twice', async () => {
    for (const [name, type] of [
      ['production', 'production'],
      ['develop', 'integration'],
    ] as const)
      ok(
        await s.call('POST', '/api/projects/pro/environments', {
          token,
          body: { name, type, mounts: [{ name: 'pub/media', path: s.dir }] },
        }),
        201,
      )
    // No scheduler tick has run (the test server's interval is an hour).
    expect(await schedules('production')).toMatchObject([{ kind: 'automatic', cron: '0 * * * *' }])
    expect(await schedules('develop')).toEqual([])

    ok(
      await s.call('PATCH', '/api/projects/pro/environments/develop', {
        token,
        body: { type: 'staging' },
      }),
    )
    expect(await schedules('develop')).toMatchObject([{ kind: 'automatic' }])

    // Requests and ticks at the same moment still leave one schedule each.
    await Promise.all(Array.from({ length: 6 }, () => syncAutomaticSchedules(s.coffer.control)))
    expect(await schedules('production')).toHaveLength(1)
    expect(await schedules('develop')).toHaveLength(1)

    ok(await s.call('PATCH', '/api/projects/pro', { token, body: { plan: 'starter' } }))
    expect(await schedules('production')).toEqual([])
    expect(await schedules('develop')).toEqual([])
  })
})
