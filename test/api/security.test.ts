import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_ROUTES } from '../../src/api/index.js'
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/api-harness.js'
import {
  NAMES,
  ok,
  setupWorld,
  takeSnapshot,
  USER_PASSWORD,
  type World,
} from '../helpers/api-fixtures.js'
import { STORE_DIALECTS_UNDER_TEST } from '../helpers/test-store.js'

const WINDOW_MS = 15 * 60_000

describe.each(STORE_DIALECTS_UNDER_TEST)(
  'sign-in, tokens, audit and system routes on %s',
  (dialect) => {
    let s: TestServer
    let w: World

    beforeAll(async () => {
      s = await startTestServer(dialect, `security-${dialect}`)
      w = await setupWorld(s)
    })
    afterAll(async () => {
      expect(s.watch.leaks()).toEqual([])
      await s.stop()
    })

    const login = (user: string, password: string) =>
      s.call('POST', '/api/auth/login', { body: { user, password }, issuesSecret: true })

    it('throttles sign-ins per user, even with the right password, until the window passes', async () => {
      for (let i = 0; i < 5; i++)
        expect((await login(NAMES.viewer, 'wrong-password')).status).toBe(401)
      const locked = await login(NAMES.viewer, USER_PASSWORD)
      expect(locked.status).toBe(429)
      expect(locked.json).toMatchObject({ code: 'throttled' })
      // Another user from the same address is not locked out by this user's failures.
      ok(await login(NAMES.contributor, USER_PASSWORD))
      s.clock.advance(WINDOW_MS + 1000)
      ok(await login(NAMES.viewer, USER_PASSWORD))
    })

    it('throttles sign-ins per address across user names (a password spray)', async () => {
      for (let i = 0; i < 20; i++)
        expect((await login(`sprayed-${i}`, 'wrong-password')).status).toBe(401)
      expect((await login(NAMES.admin, USER_PASSWORD)).status).toBe(429)
      s.clock.advance(WINDOW_MS + 1000)
      ok(await login(NAMES.admin, USER_PASSWORD))
    })

    it('does not say whether a user exists', async () => {
      const unknown = await login('nobody-here', 'wrong-password')
      const known = await login(NAMES.contributor, 'wrong-password')
      expect(unknown.status).toBe(401)
      expect(known.json).toEqual(unknown.json)
    })

    it('stores tokens hashed, shows them once, and revokes them', async () => {
      const r = ok(
        await s.call('POST', '/api/tokens', {
          token: w.tokens.admin,
          body: { name: 'cron' },
          issuesSecret: true,
        }),
        201,
      )
      const { token, info } = r.json as { token: string; info: { id: string } }
      s.watch.add(token)
      expect(token).toMatch(/^coffer_/)
      const rows = await s.coffer.control.store.db.selectFrom('tokens').selectAll().execute()
      expect(JSON.stringify(rows)).not.toContain(token)
      const row = rows.find((t) => t.id === info.id)!
      expect(row.hash).toBe(createHash('sha256').update(token).digest('hex'))
      const list = ok(await s.call('GET', '/api/tokens', { token })).text
      expect(list).toContain(info.id)
      expect(list).not.toContain(token)
      expect(ok(await s.call('GET', '/api/auth/me', { token })).json).toMatchObject({
        user: { name: NAMES.admin },
      })
      expect(
        (await s.call('DELETE', `/api/tokens/${info.id}`, { token: w.tokens.admin })).status,
      ).toBe(204)
      expect((await s.call('GET', '/api/auth/me', { token })).status).toBe(401)
    })

    it('expires sessions after their lifetime', async () => {
      const session = await s.login(NAMES.contributor, USER_PASSWORD)
      ok(await s.call('GET', '/api/auth/me', { token: session }))
      s.clock.advance(13 * 3_600_000)
      expect((await s.call('GET', '/api/auth/me', { token: session })).status).toBe(401)
    })

    it('gives the console an HttpOnly, SameSite=Strict cookie and wants its CSRF token on writes', async () => {
      const r = await s.call('POST', '/api/auth/login', {
        body: { user: NAMES.admin, password: USER_PASSWORD, cookie: true },
        issuesSecret: true,
      })
      ok(r)
      const cookies = r.headers.getSetCookie()
      const session = cookies.find((c) => c.startsWith('coffer_session='))!
      expect(session).toMatch(/HttpOnly/i)
      expect(session).toMatch(/SameSite=Strict/i)
      expect(session).not.toMatch(/Secure/i) // plain HTTP here; --tls-cert sets Secure
      const value = session.split(';')[0]!
      s.watch.add(value.split('=')[1])
      const csrf = (r.json as { csrf_token: string }).csrf_token
      expect(r.json).not.toHaveProperty('token')
      const cookie = { cookie: value }
      ok(await s.call('GET', '/api/projects', { headers: cookie }))
      const body = { title: 'Shop' }
      const forged = await s.call('PATCH', '/api/projects/shop', { headers: cookie, body })
      expect(forged.status).toBe(403)
      ok(
        await s.call('PATCH', '/api/projects/shop', {
          headers: { ...cookie, 'x-csrf-token': csrf },
          body,
        }),
      )
    })

    it('keeps an audit log of sign-ins, grants and snapshots: who, when, from where', async () => {
      const id = await takeSnapshot(s, w.tokens.admin, 'shop', 'develop')
      const audit = ok(await s.call('GET', '/api/audit?limit=500', { token: w.tokens.operator }))
        .json as {
        items: {
          action: string
          actor: string | null
          address: string | null
          at: string
          project: string | null
        }[]
      }
      const find = (action: string, actor: string) =>
        audit.items.find((a) => a.action === action && a.actor === actor)
      expect(find('auth.login', NAMES.admin)).toMatchObject({
        address: expect.stringContaining('127.0.0.1') as unknown,
      })
      expect(find('auth.login_failed', NAMES.viewer)).toBeDefined()
      expect(audit.items.some((a) => a.action === 'grant.set' && a.project === 'shop')).toBe(true)
      expect(find('backup.create', NAMES.admin)).toMatchObject({
        project: 'shop',
        at: expect.any(String) as unknown,
      })
      // A project's admin reads its part of the log; a viewer does not.
      const mine = ok(await s.call('GET', '/api/projects/shop/audit', { token: w.tokens.admin }))
        .json as {
        items: { project: string }[]
      }
      expect(mine.items.length).toBeGreaterThan(0)
      expect(mine.items.every((a) => a.project === 'shop')).toBe(true)
      expect(
        (await s.call('GET', '/api/projects/shop/audit', { token: w.tokens.viewer })).status,
      ).toBe(403)
      expect(id).toMatch(/^[0-9a-f]{8}$/)
    })

    it('answers /healthz and /metrics without a token', async () => {
      expect(ok(await s.call('GET', '/healthz')).json).toMatchObject({ status: 'ok' })
      const m = ok(await s.call('GET', '/metrics'))
      expect(m.headers.get('content-type')).toContain('text/plain')
      expect(m.text).toMatch(
        /coffer_activities_total\{[^}]*type="environment.backup"[^}]*result="success"[^}]*\} [1-9]/,
      )
      expect(m.text).toContain('coffer_activity_duration_seconds_count')
      expect(m.text).toContain('coffer_snapshot_bytes')
      expect(m.text).toContain('coffer_pause_seconds')
      expect(m.text).toMatch(/coffer_http_requests_total\{[^}]*route="\/api\/auth\/login"/)
    })

    it('describes every route in OpenAPI 3.1 at /api/openapi.json', async () => {
      const doc = ok(await s.call('GET', '/api/openapi.json')).json as {
        openapi: string
        paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>
        components: { schemas: Record<string, unknown> }
      }
      expect(doc.openapi).toMatch(/^3\.1\./)
      for (const r of API_ROUTES)
        expect(doc.paths[r.path]?.[r.method], `${r.method} ${r.path}`).toBeDefined()
      expect(Object.keys(doc.components.schemas)).toEqual(
        expect.arrayContaining(['Activity', 'Backup', 'Problem']),
      )
    })

    it('answers errors as RFC 9457 problem details', async () => {
      const r = await s.call('GET', '/api/projects/nope', { token: w.tokens.operator })
      expect(r.status).toBe(404)
      expect(r.headers.get('content-type')).toContain('application/problem+json')
      expect(r.json).toMatchObject({
        type: expect.any(String) as unknown,
        title: expect.any(String) as unknown,
        status: 404,
        code: 'not_found',
      })
      const bad = await s.call('POST', '/api/projects', {
        token: w.tokens.operator,
        body: { id: 'x', plan: 'gold' },
      })
      expect(bad.status).toBe(400)
      expect(bad.json).toMatchObject({ code: 'invalid_input' })
    })

    it('has the admin sign in with COFFER_ADMIN_PASSWORD', async () => {
      ok(await login('admin', ADMIN_PASSWORD))
    })
  },
)
