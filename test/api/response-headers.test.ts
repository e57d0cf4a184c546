import { mkdir, writeFile } from 'node:fs/promises'
import { Agent, get } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/api-harness.js'

// The app sets its headers before the route answers (so Hono need not copy the finished
// response) and skips the body limit on GET: every kind of answer must still carry them,
// and bodies must still be limited where they are read.
describe.each(['sqlite', 'postgres'] as const)('response headers on %s', (dialect) => {
  let s: TestServer
  let token: string
  let activityId: string
  beforeAll(async () => {
    s = await startTestServer(dialect, `headers-${dialect}`)
    token = await s.login('admin', ADMIN_PASSWORD)
    const media = join(s.dir, 'shop/pub/media')
    await mkdir(media, { recursive: true })
    await writeFile(join(media, 'a.txt'), 'one')
    await s.call('POST', '/api/projects', { token, body: { id: 'shop', plan: 'starter' } })
    await s.call('POST', '/api/projects/shop/environments', {
      token,
      body: { name: 'develop', type: 'integration', mounts: [{ name: 'pub/media', path: media }] },
    })
    const r = await s.call('POST', '/api/projects/shop/environments/develop/backups', {
      token,
      body: {},
    })
    activityId = (r.json as { id: string }).id
    await s.waitActivity('shop', activityId, token)
  })
  afterAll(() => s.stop())

  const cases = [
    { what: 'a JSON answer', path: '/api/projects', auth: true, status: 200 },
    { what: 'a problem from the auth middleware', path: '/api/projects', auth: false, status: 401 },
    { what: 'a problem for an unknown path', path: '/api/nothing-here', auth: true, status: 404 },
    { what: 'a problem from a route', path: '/api/projects/nope', auth: true, status: 404 },
  ]
  it.each(cases)('$what carries no-store and nosniff', async ({ path, auth, status }) => {
    const r = await s.call('GET', path, auth ? { token } : {})
    expect(r.status, r.text).toBe(status)
    expect(r.headers.get('cache-control')).toBe('no-store')
    expect(r.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('an activity stream carries no-store and nosniff, and its events', async () => {
    const r = await s.call('GET', `/api/projects/shop/activities/${activityId}/stream`, { token })
    expect(r.status, r.text).toBe(200)
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(r.headers.get('cache-control')).toBe('no-store')
    expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    // The activity has finished: the stream sends it and ends.
    expect(r.text).toContain('event: activity')
    expect(r.text).toMatch(/event: end\ndata: \{"state":"complete","result":"success"\}/)
  })

  it('answers outside /api carry nosniff and may be cached', async () => {
    const r = await s.call('GET', '/healthz')
    expect(r.status).toBe(200)
    expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    expect(r.headers.get('cache-control')).toBeNull()
  })

  it('still refuses a body over the limit where bodies are read', async () => {
    const r = await s.call('POST', '/api/projects', {
      token,
      body: { id: 'big', plan: 'starter', title: 'x'.repeat(1024 * 1024 + 1) },
    })
    expect(r.status, r.text).toBe(400)
    expect(r.json).toMatchObject({
      code: 'invalid_input',
      detail: 'The request body is too large.',
    })
    expect((await s.call('GET', '/api/projects/big', { token })).status).toBe(404)
  })

  it('keeps an idle connection open for 65 s (longer than proxies keep theirs)', async () => {
    // A client that keeps connections (without an agent, node:http asks to close).
    const agent = new Agent({ keepAlive: true })
    try {
      const keepAlive = await new Promise<string | undefined>((resolve, reject) => {
        get(`${s.url}/healthz`, { agent }, (res) => {
          res.resume()
          const v = res.headers['keep-alive']
          resolve(typeof v === 'string' ? v : undefined)
        }).on('error', reject)
      })
      expect(keepAlive).toBe('timeout=65')
    } finally {
      agent.destroy()
    }
  })

  it('reports the event loop delay in /metrics', async () => {
    const r = await s.call('GET', '/metrics')
    expect(r.status).toBe(200)
    expect(r.text).toContain('# TYPE coffer_event_loop_delay_seconds gauge')
  })
})
