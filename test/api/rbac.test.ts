import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type ApiResponse, type TestServer } from '../helpers/api-harness.js'
import {
  NAMES,
  ok,
  PEOPLE,
  setupWorld,
  takeSnapshot,
  USER_PASSWORD,
  type Person,
  type World,
} from '../helpers/api-fixtures.js'
import { storeDigest } from '../helpers/store-digest.js'
import { STORE_DIALECTS_UNDER_TEST } from '../helpers/test-store.js'

type Caller = Person | 'anonymous'
const CALLERS: readonly Caller[] = ['anonymous', ...PEOPLE]

const ALL: readonly Person[] = PEOPLE
/** Anyone with a role on `shop` (override is a viewer there), and operators. */
const VIEWERS: readonly Person[] = ['viewer', 'contributor', 'admin', 'override', 'operator']
/** Admins of `shop/develop`: project admins, the environment override, operators. */
const DEVELOP_ADMINS: readonly Person[] = ['admin', 'override', 'operator']
const PROJECT_ADMINS: readonly Person[] = ['admin', 'operator']
const OPERATORS: readonly Person[] = ['operator']

interface Case {
  readonly method: string
  readonly path: string | (() => string)
  /** A JSON body, or a function that makes it once the world exists. */
  readonly body?: unknown
  readonly allowed: readonly Person[]
  /** The status an allowed call gets (default: any 2xx). */
  readonly okStatus?: number
  /** Puts back what an allowed call consumed (runs as root before every call). */
  readonly prepare?: () => Promise<void>
  /** The answer hands out a new secret (a token, a signing secret). */
  readonly issuesSecret?: boolean
}

describe.each(STORE_DIALECTS_UNDER_TEST)('the RBAC matrix on %s', (dialect) => {
  let s: TestServer
  let w: World
  let manual: string
  let firstActivity: string
  let victimToken = ''
  let doomed = ''
  let scheduleId = ''
  let channelId = ''
  const shop = '/api/projects/shop'
  const develop = `${shop}/environments/develop`

  const root = (method: string, path: string, body?: unknown): Promise<ApiResponse> =>
    s.call(method, path, { token: w.tokens.root, ...(body !== undefined ? { body } : {}) })

  /** Creates something as root unless it already exists (409). */
  async function ensure(path: string, body: unknown): Promise<void> {
    const r = await root('POST', path, body)
    if (r.status !== 201 && r.status !== 409) throw new Error(`${path}: ${r.status} ${r.text}`)
  }

  const mountsOf = (env: string) => [{ name: 'pub/media', path: w.mounts[env]! }]

  beforeAll(async () => {
    s = await startTestServer(dialect, `rbac-${dialect}`)
    w = await setupWorld(s)
    const r = ok(
      await s.call('POST', `${develop}/backups`, { token: w.tokens.admin, body: {} }),
      202,
    )
    firstActivity = (r.json as { id: string }).id
    manual = (await s.waitActivity('shop', firstActivity, w.tokens.admin)).snapshot as string
    ok(await root('POST', '/api/users', { name: 'dora', password: USER_PASSWORD }), 201)
  })
  afterAll(async () => {
    expect(s.watch.leaks()).toEqual([])
    await s.stop()
  })

  const cases: Record<string, Case> = {
    'GET /api/auth/me': { method: 'GET', path: '/api/auth/me', allowed: ALL },
    'GET /api/users': { method: 'GET', path: '/api/users', allowed: ALL },
    'POST /api/users': {
      method: 'POST',
      path: '/api/users',
      body: { name: 'newcomer', password: USER_PASSWORD },
      allowed: OPERATORS,
    },
    'GET /api/users/{user}': { method: 'GET', path: '/api/users/dora', allowed: OPERATORS },
    'PATCH /api/users/{user}': {
      method: 'PATCH',
      path: '/api/users/dora',
      body: { password: USER_PASSWORD },
      allowed: OPERATORS,
    },
    'DELETE /api/users/{user}': {
      method: 'DELETE',
      path: '/api/users/leaving',
      allowed: OPERATORS,
      prepare: () => ensure('/api/users', { name: 'leaving', password: USER_PASSWORD }),
    },
    'GET /api/tokens': { method: 'GET', path: '/api/tokens', allowed: ALL },
    'POST /api/tokens': {
      method: 'POST',
      path: '/api/tokens',
      body: { name: 'rbac' },
      allowed: ALL,
      issuesSecret: true,
    },
    'DELETE /api/tokens/{id} (someone else’s)': {
      method: 'DELETE',
      path: () => `/api/tokens/${victimToken}`,
      allowed: OPERATORS,
      prepare: async () => {
        const list = ok(await root('GET', '/api/tokens')).json as { items: { id: string }[] }
        if (list.items.some((t) => t.id === victimToken)) return
        const r = await s.call('POST', '/api/tokens', {
          token: w.tokens.root,
          body: { name: 'victim' },
          issuesSecret: true,
        })
        victimToken = (ok(r, 201).json as { info: { id: string } }).info.id
      },
    },
    'GET /api/projects': { method: 'GET', path: '/api/projects', allowed: ALL },
    'POST /api/projects': {
      method: 'POST',
      path: '/api/projects',
      body: { id: 'fresh', plan: 'starter' },
      allowed: OPERATORS,
    },
    'GET /api/projects/{p}': { method: 'GET', path: shop, allowed: VIEWERS },
    'PATCH /api/projects/{p} (title)': {
      method: 'PATCH',
      path: shop,
      body: { title: 'Shop' },
      allowed: PROJECT_ADMINS,
    },
    'PATCH /api/projects/{p} (plan)': {
      method: 'PATCH',
      path: shop,
      body: { plan: 'starter' },
      allowed: OPERATORS,
    },
    'DELETE /api/projects/{p}': {
      method: 'DELETE',
      path: '/api/projects/scratch',
      allowed: OPERATORS,
      prepare: async () => {
        await ensure('/api/projects', { id: 'scratch', plan: 'starter' })
        for (const p of ['viewer', 'contributor', 'admin'] as const)
          ok(await root('PUT', `/api/projects/scratch/access/${NAMES[p]}`, { role: p }))
      },
    },
    'GET /api/projects/{p}/access': { method: 'GET', path: `${shop}/access`, allowed: VIEWERS },
    'PUT /api/projects/{p}/access/{user}': {
      method: 'PUT',
      path: `${shop}/access/dora`,
      body: { role: 'viewer' },
      allowed: PROJECT_ADMINS,
    },
    'DELETE /api/projects/{p}/access/{user}': {
      method: 'DELETE',
      path: `${shop}/access/dora`,
      allowed: PROJECT_ADMINS,
      prepare: async () => void ok(await root('PUT', `${shop}/access/dora`, { role: 'viewer' })),
    },
    'GET /api/projects/{p}/environments': {
      method: 'GET',
      path: `${shop}/environments`,
      allowed: VIEWERS,
    },
    'POST /api/projects/{p}/environments': {
      method: 'POST',
      path: `${shop}/environments`,
      body: () => ({ name: 'fresh', type: 'integration', mounts: mountsOf('shop/develop') }),
      allowed: OPERATORS,
    },
    'GET /api/projects/{p}/environments/{e}': { method: 'GET', path: develop, allowed: VIEWERS },
    'PATCH /api/projects/{p}/environments/{e} (status)': {
      method: 'PATCH',
      path: develop,
      body: { status: 'active' },
      allowed: DEVELOP_ADMINS,
    },
    'PATCH /api/projects/{p}/environments/{e} (status, no override)': {
      method: 'PATCH',
      path: `${shop}/environments/feature`,
      body: { status: 'active' },
      allowed: PROJECT_ADMINS,
    },
    'PATCH /api/projects/{p}/environments/{e} (type, hooks, mounts)': {
      method: 'PATCH',
      path: develop,
      body: { type: 'integration', hooks: null },
      allowed: OPERATORS,
    },
    'POST /api/projects/{p}/environments/{e}/deactivate': {
      method: 'POST',
      path: `${develop}/deactivate`,
      allowed: DEVELOP_ADMINS,
      prepare: async () => void ok(await root('POST', `${develop}/activate`)),
    },
    'POST /api/projects/{p}/environments/{e}/activate': {
      method: 'POST',
      path: `${develop}/activate`,
      allowed: DEVELOP_ADMINS,
      prepare: async () => void ok(await root('POST', `${develop}/deactivate`)),
    },
    'DELETE /api/projects/{p}/environments/{e}': {
      method: 'DELETE',
      path: `${shop}/environments/gone`,
      allowed: PROJECT_ADMINS,
      prepare: () =>
        ensure(`${shop}/environments`, {
          name: 'gone',
          type: 'integration',
          mounts: mountsOf('shop/develop'),
        }),
    },
    'GET …/backups': { method: 'GET', path: `${develop}/backups`, allowed: VIEWERS },
    'GET …/backups/{id}': {
      method: 'GET',
      path: () => `${develop}/backups/${manual}`,
      allowed: VIEWERS,
    },
    'POST …/backups': {
      method: 'POST',
      path: `${develop}/backups`,
      body: {},
      allowed: DEVELOP_ADMINS,
    },
    'POST …/backups (no override)': {
      method: 'POST',
      path: `${shop}/environments/feature/backups`,
      body: {},
      allowed: PROJECT_ADMINS,
    },
    'POST …/backups/{id}/restore-preview': {
      method: 'POST',
      path: () => `${develop}/backups/${manual}/restore-preview`,
      body: {},
      allowed: DEVELOP_ADMINS,
    },
    'POST …/backups/{id}/restore': {
      method: 'POST',
      path: () => `${develop}/backups/${manual}/restore`,
      body: {},
      allowed: DEVELOP_ADMINS,
    },
    'DELETE …/backups/{id}': {
      method: 'DELETE',
      path: () => `${develop}/backups/${doomed}`,
      allowed: DEVELOP_ADMINS,
      prepare: async () => {
        if (doomed && (await root('GET', `${develop}/backups/${doomed}`)).status === 200) return
        doomed = await takeSnapshot(s, w.tokens.root, 'shop', 'develop')
      },
    },
    'GET /api/projects/{p}/activities': {
      method: 'GET',
      path: `${shop}/activities`,
      allowed: VIEWERS,
    },
    'GET …/environments/{e}/activities': {
      method: 'GET',
      path: `${develop}/activities`,
      allowed: VIEWERS,
    },
    'GET …/activities/{id}': {
      method: 'GET',
      path: () => `${shop}/activities/${firstActivity}`,
      allowed: VIEWERS,
    },
    'GET …/activities/{id}/log': {
      method: 'GET',
      path: () => `${shop}/activities/${firstActivity}/log`,
      allowed: VIEWERS,
    },
    'GET …/activities/{id}/stream': {
      method: 'GET',
      path: () => `${shop}/activities/${firstActivity}/stream`,
      allowed: VIEWERS,
    },
    'POST …/activities/{id}/cancel (finished)': {
      method: 'POST',
      path: () => `${shop}/activities/${firstActivity}/cancel`,
      allowed: DEVELOP_ADMINS,
      okStatus: 409,
    },
    'GET …/schedules': { method: 'GET', path: `${develop}/schedules`, allowed: VIEWERS },
    'POST …/schedules': {
      method: 'POST',
      path: `${develop}/schedules`,
      body: { cron: '0 3 * * *', keep_count: 3 },
      allowed: DEVELOP_ADMINS,
    },
    'DELETE …/schedules/{id}': {
      method: 'DELETE',
      path: () => `${develop}/schedules/${scheduleId}`,
      allowed: DEVELOP_ADMINS,
      prepare: async () => {
        const list = ok(await root('GET', `${develop}/schedules`)).json as {
          items: { id: string }[]
        }
        if (list.items.some((x) => x.id === scheduleId)) return
        const r = ok(
          await root('POST', `${develop}/schedules`, { cron: '0 4 * * *', keep_days: 7 }),
          201,
        )
        scheduleId = (r.json as { id: string }).id
      },
    },
    'GET /api/projects/{p}/notifications': {
      method: 'GET',
      path: `${shop}/notifications`,
      allowed: PROJECT_ADMINS,
    },
    'POST /api/projects/{p}/notifications': {
      method: 'POST',
      path: `${shop}/notifications`,
      body: { kind: 'email', target: 'ops@example.com' },
      allowed: PROJECT_ADMINS,
    },
    'DELETE /api/projects/{p}/notifications/{id}': {
      method: 'DELETE',
      path: () => `${shop}/notifications/${channelId}`,
      allowed: PROJECT_ADMINS,
      prepare: async () => {
        const list = ok(await root('GET', `${shop}/notifications`)).json as {
          items: { id: string }[]
        }
        if (list.items.some((x) => x.id === channelId)) return
        const r = ok(
          await root('POST', `${shop}/notifications`, { kind: 'email', target: 'a@example.com' }),
          201,
        )
        channelId = (r.json as { channel: { id: string } }).channel.id
      },
    },
    'GET /api/audit': { method: 'GET', path: '/api/audit', allowed: OPERATORS },
    'GET /api/projects/{p}/audit': {
      method: 'GET',
      path: `${shop}/audit`,
      allowed: PROJECT_ADMINS,
    },
    'GET /api/settings/smtp': { method: 'GET', path: '/api/settings/smtp', allowed: OPERATORS },
    'PUT /api/settings/smtp': {
      method: 'PUT',
      path: '/api/settings/smtp',
      body: { host: '127.0.0.1', port: 2525, security: 'none', from: 'coffer@example.com' },
      allowed: OPERATORS,
    },
  }

  it.each(Object.keys(cases))('%s', async (name) => {
    const c = cases[name]!
    for (const who of CALLERS) {
      await c.prepare?.()
      const path = typeof c.path === 'function' ? c.path() : c.path
      const body: unknown = typeof c.body === 'function' ? (c.body as () => unknown)() : c.body
      const before = await storeDigest(s.coffer.control)
      const r = await s.call(c.method, path, {
        ...(who === 'anonymous' ? {} : { token: w.tokens[who] }),
        ...(body !== undefined ? { body } : {}),
        ...(c.issuesSecret ? { issuesSecret: true } : {}),
      })
      const label = `${who}: ${c.method} ${path} → ${r.status} ${r.text.slice(0, 300)}`
      if (who !== 'anonymous' && c.allowed.includes(who)) {
        if (c.okStatus) expect(r.status, label).toBe(c.okStatus)
        else expect(r.status >= 200 && r.status < 300, label).toBe(true)
        // An activity started: let it finish, so the next caller finds the environment idle.
        const id = (r.json as { id?: unknown } | undefined)?.id
        if (r.status === 202 && typeof id === 'string') {
          const done = await s.waitActivity('shop', id, w.tokens.root)
          expect(done, label).toMatchObject({ result: 'success' })
        }
      } else {
        expect(who === 'anonymous' ? [401] : [403, 404], label).toContain(r.status)
        expect(r.headers.get('content-type'), label).toContain('application/problem+json')
        expect(await storeDigest(s.coffer.control), label).toBe(before)
      }
    }
  })
})
