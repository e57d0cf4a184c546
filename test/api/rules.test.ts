import { access, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MESSAGES, schedulerTick } from '../../src/control/index.js'
import { startTestServer, type ApiResponse, type TestServer } from '../helpers/api-harness.js'
import { ok, setupWorld, takeSnapshot, type World } from '../helpers/api-fixtures.js'
import { storeDigest } from '../helpers/store-digest.js'
import { STORE_DIALECTS_UNDER_TEST } from '../helpers/test-store.js'

const DAY = 86_400_000

function expectProblem(r: ApiResponse, status: number, code: string, detail: string): void {
  expect(r.status, r.text).toBe(status)
  expect(r.headers.get('content-type')).toContain('application/problem+json')
  expect(r.json).toMatchObject({ status, code, detail })
}

describe.each(STORE_DIALECTS_UNDER_TEST)('the rules through the API on %s', (dialect) => {
  let s: TestServer
  let w: World
  let manual: string
  const base = '/api/projects/shop/environments/develop/backups'

  /** Runs `call`, checks the refusal, and checks that nothing changed. */
  async function refused(
    call: () => Promise<ApiResponse>,
    status: number,
    code: string,
    detail: string,
  ): Promise<void> {
    const before = await storeDigest(s.coffer.control)
    expectProblem(await call(), status, code, detail)
    expect(await storeDigest(s.coffer.control)).toBe(before)
  }

  /** Waits until no activity is pending or running, in any project (a tick's deletions too). */
  async function settle(): Promise<void> {
    for (const project of ['shop', 'pro'])
      for (;;) {
        const list = ok(
          await s.call('GET', `/api/projects/${project}/activities?limit=100`, {
            token: w.tokens.operator,
          }),
        ).json as { items: { id: string; state: string }[] }
        const open = list.items.find((a) => a.state === 'pending' || a.state === 'in_progress')
        if (!open) break
        await s.waitActivity(project, open.id, w.tokens.operator, 150_000)
      }
  }

  beforeAll(async () => {
    s = await startTestServer(dialect, `rules-${dialect}`)
    w = await setupWorld(s)
    manual = await takeSnapshot(s, w.tokens.admin, 'shop', 'develop')
  })
  afterAll(async () => {
    expect(s.watch.leaks()).toEqual([])
    await s.stop()
  })

  it.each(['viewer', 'contributor'] as const)('refuses a %s: not an administrator', async (who) => {
    const token = w.tokens[who]
    await refused(
      () => s.call('POST', base, { token, body: {} }),
      403,
      'not_admin',
      'You must be an administrator to create a snapshot.',
    )
    await refused(
      () => s.call('POST', `${base}/${manual}/restore`, { token, body: {} }),
      403,
      'not_admin',
      'You must be an administrator to restore a snapshot.',
    )
    await refused(
      () => s.call('DELETE', `${base}/${manual}`, { token }),
      403,
      'not_admin',
      'You must be an administrator to delete a snapshot.',
    )
  })

  it('refuses an environment override where it does not apply', async () => {
    const token = w.tokens.override
    await refused(
      () => s.call('POST', '/api/projects/shop/environments/feature/backups', { token, body: {} }),
      403,
      'not_admin',
      'You must be an administrator to create a snapshot.',
    )
  })

  it('refuses an inactive environment', async () => {
    await refused(
      () =>
        s.call('POST', '/api/projects/shop/environments/old/backups', {
          token: w.tokens.admin,
          body: {},
        }),
      409,
      'env_inactive',
      'The environment is not active.',
    )
    await refused(
      () =>
        s.call('POST', `${base}/${manual}/restore`, {
          token: w.tokens.admin,
          body: { target: 'old' },
        }),
      409,
      'env_inactive',
      'The environment is not active.',
    )
  })

  it.each(['production', 'staging'])(
    'refuses a manual snapshot of Pro %s, even to an operator',
    async (env) => {
      for (const token of [w.tokens.admin, w.tokens.operator])
        await refused(
          () =>
            s.call('POST', `/api/projects/pro/environments/${env}/backups`, {
              token,
              body: { live: true },
            }),
          400,
          'manual_not_allowed',
          'Manual snapshots are not available on Pro staging and production environments: they are backed up automatically.',
        )
    },
  )

  it('allows manual snapshots on Starter staging and Pro integration', async () => {
    await takeSnapshot(s, w.tokens.admin, 'shop', 'staging')
    await takeSnapshot(s, w.tokens.admin, 'pro', 'integration')
  })

  it('refuses a request while an activity is pending or in progress', async () => {
    const gate = join(s.dir, 'gate')
    const hold = `while [ ! -f ${gate} ]; do sleep 0.05; done`
    ok(
      await s.call('PATCH', '/api/projects/shop/environments/feature', {
        token: w.tokens.root,
        body: { hooks: { hold, release: 'true' } },
      }),
    )
    const first = ok(
      await s.call('POST', '/api/projects/shop/environments/feature/backups', {
        token: w.tokens.admin,
        body: {},
      }),
      202,
    ).json as { id: string }
    // The worker takes it up and holds in the hook: from then on nothing moves until the gate.
    await s.waitActivity('shop', first.id, w.tokens.admin, undefined, ['in_progress'])
    const busy = 'An activity is currently pending or in progress on the environment.'
    await refused(
      () =>
        s.call('POST', '/api/projects/shop/environments/feature/backups', {
          token: w.tokens.admin,
          body: {},
        }),
      409,
      'env_busy',
      busy,
    )
    await refused(
      () =>
        s.call('POST', `${base}/${manual}/restore`, {
          token: w.tokens.admin,
          body: { target: 'feature' },
        }),
      409,
      'env_busy',
      busy,
    )
    const env = ok(
      await s.call('GET', '/api/projects/shop/environments/feature', { token: w.tokens.admin }),
    ).json
    expect(env).toMatchObject({
      active_activity: first.id,
      can_create_snapshot: { allowed: false, reason: busy },
    })
    await writeFile(gate, '')
    expect(await s.waitActivity('shop', first.id, w.tokens.admin)).toMatchObject({
      result: 'success',
    })
    await access(gate)
    ok(
      await s.call('PATCH', '/api/projects/shop/environments/feature', {
        token: w.tokens.root,
        body: { hooks: null },
      }),
    )
  })

  it('refuses the restore of a manual snapshot older than 7 days', async () => {
    const id = await takeSnapshot(s, w.tokens.admin, 'shop', 'feature')
    s.clock.advance(7 * DAY - 60_000)
    ok(
      await s.call(
        'POST',
        `/api/projects/shop/environments/feature/backups/${id}/restore-preview`,
        { token: w.tokens.admin, body: {} },
      ),
    )
    s.clock.advance(2 * 60_000)
    const list = ok(
      await s.call('GET', '/api/projects/shop/environments/feature/backups', {
        token: w.tokens.viewer,
      }),
    ).json as {
      items: { id: string; restorable: boolean }[]
    }
    expect(list.items.find((b) => b.id === id)).toMatchObject({ restorable: false })
    await refused(
      () =>
        s.call('POST', `/api/projects/shop/environments/feature/backups/${id}/restore`, {
          token: w.tokens.admin,
          body: {},
        }),
      400,
      'too_old',
      `The snapshot ${id} cannot be restored: it is older than 7 days.`,
    )
    await refused(
      () =>
        s.call('POST', `/api/projects/shop/environments/feature/backups/${id}/restore`, {
          token: w.tokens.operator,
          body: {},
        }),
      400,
      'too_old',
      MESSAGES.tooOld(id),
    )
  })

  it('lets only an operator restore an automatic backup of Pro production', async () => {
    // The schedules exist since the environments were made; earlier tests moved the clock
    // past their first slot, so this tick may already start backups: let them finish.
    await schedulerTick(s.coffer.control)
    await settle()
    s.clock.advance(3_600_000)
    const tick = await schedulerTick(s.coffer.control)
    expect(tick.started.length).toBeGreaterThanOrEqual(2)
    // Thinning after the hour may start deletions too (backups wait for their prune): all
    // of it ends before the refusals below compare the store before and after.
    await settle()
    for (const id of tick.started)
      expect(await s.waitActivity('pro', id, w.tokens.operator)).toMatchObject({
        result: 'success',
      })
    const list = ok(
      await s.call('GET', '/api/projects/pro/environments/production/backups', {
        token: w.tokens.admin,
      }),
    ).json as {
      items: {
        id: string
        automated: boolean
        live: boolean
        restorable: boolean
        expires_at: string | null
      }[]
    }
    const auto = list.items[0]!
    expect(auto).toMatchObject({ automated: true, live: true, restorable: true, expires_at: null })
    await refused(
      () =>
        s.call('POST', `/api/projects/pro/environments/production/backups/${auto.id}/restore`, {
          token: w.tokens.admin,
          body: {},
        }),
      403,
      'operator_required',
      MESSAGES.restoreAutomatic,
    )
    await refused(
      () =>
        s.call('DELETE', `/api/projects/pro/environments/production/backups/${auto.id}`, {
          token: w.tokens.admin,
        }),
      403,
      'operator_required',
      MESSAGES.deleteAutomatic,
    )
    const r = ok(
      await s.call('POST', `/api/projects/pro/environments/production/backups/${auto.id}/restore`, {
        token: w.tokens.operator,
        body: {},
      }),
      202,
    )
    expect(
      await s.waitActivity('pro', (r.json as { id: string }).id, w.tokens.operator),
    ).toMatchObject({ result: 'success' })
  }, 240_000)

  it('refuses someone without a role on the project', async () => {
    await refused(
      () => s.call('POST', base, { token: w.tokens.none, body: {} }),
      403,
      'forbidden',
      'You do not have access to the project.',
    )
  })

  it('refuses anonymous requests', async () => {
    expectProblem(
      await s.call('POST', base, { body: {} }),
      401,
      'unauthenticated',
      'Sign in first: send a token (Authorization: Bearer …) or sign in to the console.',
    )
  })
})
