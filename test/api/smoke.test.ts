import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createShopWithMedia } from '../helpers/api-fixtures.js'
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/api-harness.js'

describe.each(['sqlite', 'postgres'] as const)('smoke on %s', (dialect) => {
  let s: TestServer
  let token: string
  beforeAll(async () => {
    s = await startTestServer(dialect, `smoke-${dialect}`)
    token = await s.login('admin', ADMIN_PASSWORD)
  })
  afterAll(() => s.stop())

  it('takes a snapshot and restores it', async () => {
    const media = await createShopWithMedia(s, token)
    let r = await s.call('POST', '/api/projects/shop/environments/develop/backups', {
      token,
      body: {},
    })
    expect(r.status, r.text).toBe(202)
    const a = r.json as { id: string; description: string }
    expect(a.description).toBe('admin created a snapshot of develop')
    const done = await s.waitActivity('shop', a.id, token)
    expect(done).toMatchObject({ state: 'complete', result: 'success' })
    r = await s.call('GET', '/api/projects/shop/environments/develop/backups', { token })
    const list = r.json as { items: { id: string; restorable: boolean }[] }
    expect(list.items).toHaveLength(1)
    expect(list.items[0]!.id).toBe(done.snapshot)
    await writeFile(join(media, 'a.txt'), 'two')
    r = await s.call(
      'POST',
      `/api/projects/shop/environments/develop/backups/${list.items[0]!.id}/restore`,
      { token, body: {} },
    )
    expect(r.status, r.text).toBe(202)
    const restore = await s.waitActivity('shop', (r.json as { id: string }).id, token)
    expect(restore).toMatchObject({ state: 'complete', result: 'success' })
    expect(await readFile(join(media, 'a.txt'), 'utf8')).toBe('one')
    r = await s.call('GET', '/api/openapi.json')
    expect(r.status).toBe(200)
    expect(s.watch.leaks()).toEqual([])
  })
})
