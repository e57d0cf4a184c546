import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/api-harness.js'

// Mounts of one environment are registered apart: a name inside another would put two
// mounts' files in one folder of the snapshot (the capture failed with an internal error), and
// a directory inside another would be captured twice and switched away under the other's
// restore.
describe('the mounts an environment is registered with', () => {
  let s: TestServer
  let token: string
  let shop: string
  beforeAll(async () => {
    s = await startTestServer('sqlite', 'environment-mounts')
    token = await s.login('admin', ADMIN_PASSWORD)
    shop = join(s.dir, 'shop')
    await mkdir(join(shop, 'pub/media'), { recursive: true })
    await mkdir(join(shop, 'app/etc'), { recursive: true })
    await writeFile(join(shop, 'pub/media/a.jpg'), 'image')
    await s.call('POST', '/api/projects', { token, body: { id: 'shop', plan: 'starter' } })
  })
  afterAll(() => s.stop())

  const register = (name: string, mounts: { name: string; path: string }[]) =>
    s.call('POST', '/api/projects/shop/environments', {
      token,
      body: { name, type: 'integration', mounts },
    })

  const cases = [
    {
      what: 'a name inside another',
      mounts: () => [
        { name: 'pub', path: join(shop, 'pub') },
        { name: 'pub/media', path: join(shop, 'app/etc') },
      ],
      field: 'mounts[1].name',
      detail: () =>
        'The mount name pub/media is inside the mount name pub: mount names must not nest.',
    },
    {
      what: 'a name inside another, given first',
      mounts: () => [
        { name: 'pub/media', path: join(shop, 'app/etc') },
        { name: 'pub', path: join(shop, 'pub') },
      ],
      field: 'mounts[0].name',
      detail: () =>
        'The mount name pub/media is inside the mount name pub: mount names must not nest.',
    },
    {
      what: 'a path inside another',
      mounts: () => [
        { name: 'pub', path: join(shop, 'pub') },
        { name: 'media', path: join(shop, 'pub/media') },
      ],
      field: 'mounts[1].path',
      detail: () =>
        `The path of the mount media (${shop}/pub/media) is inside the path of the mount pub (${shop}/pub): mounts must not overlap.`,
    },
    {
      what: 'a path inside another, spelt with a dot and a trailing slash',
      mounts: () => [
        { name: 'media', path: `${shop}/./pub/media/` },
        { name: 'pub', path: `${shop}/pub/` },
      ],
      field: 'mounts[0].path',
      detail: () =>
        `The path of the mount media (${shop}/pub/media) is inside the path of the mount pub (${shop}/pub): mounts must not overlap.`,
    },
    {
      what: 'one path for two mounts',
      mounts: () => [
        { name: 'media', path: join(shop, 'pub/media') },
        { name: 'images', path: `${shop}/pub//media` },
      ],
      field: 'mounts[1].path',
      detail: () => `The mounts media and images have the same path ${shop}/pub/media.`,
    },
    {
      what: 'a name with an empty segment',
      mounts: () => [{ name: 'pub//media', path: join(shop, 'pub/media') }],
      field: 'mounts[0].name',
      detail: () => 'Invalid mount name "pub//media".',
    },
    {
      what: 'a name with a trailing slash',
      mounts: () => [{ name: 'pub/', path: join(shop, 'pub/media') }],
      field: 'mounts[0].name',
      detail: () => 'Invalid mount name "pub/".',
    },
  ]
  it.each(cases)('refuses $what, naming the field', async ({ mounts, field, detail }) => {
    const r = await register('nested', mounts())
    expect(r.status, r.text).toBe(400)
    expect(r.json).toMatchObject({ code: 'invalid_input', field, detail: detail() })
    expect((await s.call('GET', '/api/projects/shop/environments/nested', { token })).status).toBe(
      404,
    )
  })

  it('takes mounts side by side, and refuses a change that nests them', async () => {
    const ok = await register('develop', [
      { name: 'pub/media', path: join(shop, 'pub/media') },
      { name: 'pub/static', path: join(shop, 'pub/static') },
      { name: 'app/etc', path: join(shop, 'app/etc') },
    ])
    expect(ok.status, ok.text).toBe(201)
    const r = await s.call('PATCH', '/api/projects/shop/environments/develop', {
      token,
      body: {
        mounts: [
          { name: 'pub/media', path: join(shop, 'pub/media') },
          { name: 'all', path: shop },
        ],
      },
    })
    expect(r.status, r.text).toBe(400)
    expect(r.json).toMatchObject({
      code: 'invalid_input',
      field: 'mounts[0].path',
      detail: `The path of the mount pub/media (${shop}/pub/media) is inside the path of the mount all (${shop}): mounts must not overlap.`,
    })
    const env = await s.call('GET', '/api/projects/shop/environments/develop', { token })
    expect((env.json as { mounts: { name: string }[] }).mounts.map((m) => m.name)).toEqual([
      'pub/media',
      'pub/static',
      'app/etc',
    ])
  })
})
