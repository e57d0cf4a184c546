import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, setupWorld, takeSnapshot, type World } from '../helpers/api-fixtures.js'
import { startTestServer, type TestServer } from '../helpers/api-harness.js'
import { seededBytes } from '../helpers/seeded-bytes.js'

interface Health {
  location: string
  stored_bytes: number
  packs: number
  snapshots: number
  snapshot_bytes: number
  deduplication_ratio: number | null
  last_check: null | { errors: number; read_data: boolean; findings: string[]; checked_by: string }
}

/** A project's repository health: sizes, deduplication, and checks recorded on demand. */
describe('repository health', () => {
  let s: TestServer
  let w: World
  const repoPath = '/api/projects/shop/repository'

  beforeAll(async () => {
    s = await startTestServer('sqlite', 'repo-health')
    w = await setupWorld(s)
  })
  afterAll(() => s.stop())

  it('reports stored and logical sizes: two snapshots of the same files are deduplicated', async () => {
    const empty = ok(await s.call('GET', repoPath, { token: w.tokens.admin })).json as Health
    expect(empty).toMatchObject({ stored_bytes: 0, snapshots: 0, deduplication_ratio: null })
    expect(empty.last_check).toBeNull()
    await writeFile(join(w.mounts['shop/develop']!, 'photo.bin'), seededBytes('photo', 3 << 20))
    await takeSnapshot(s, w.tokens.admin, 'shop', 'develop')
    await takeSnapshot(s, w.tokens.admin, 'shop', 'develop')
    const h = ok(await s.call('GET', repoPath, { token: w.tokens.admin })).json as Health
    expect(h.snapshots).toBe(2)
    expect(h.packs).toBeGreaterThan(0)
    // The second snapshot stored nothing new: about twice the data is kept in about once.
    expect(h.snapshot_bytes).toBeGreaterThanOrEqual(2 * (3 << 20))
    expect(h.stored_bytes).toBeGreaterThan(3 << 20)
    expect(h.stored_bytes).toBeLessThan(1.2 * (3 << 20))
    expect(h.deduplication_ratio).toBeCloseTo(h.snapshot_bytes / h.stored_bytes, 6)
    expect(h.deduplication_ratio!).toBeGreaterThan(1.6)
  })

  it('refuses a viewer and a contributor', async () => {
    for (const who of ['viewer', 'contributor'] as const) {
      const r = await s.call('GET', repoPath, { token: w.tokens[who] })
      expect(r.status, r.text).toBe(403)
      const c = await s.call('POST', `${repoPath}/check`, { token: w.tokens[who], body: {} })
      expect(c.status, c.text).toBe(403)
    }
  })

  it('records a clean check, then finds a damaged pack when reading the data', async () => {
    const clean = ok(
      await s.call('POST', `${repoPath}/check`, {
        token: w.tokens.admin,
        body: { read_data: true },
      }),
    ).json as NonNullable<Health['last_check']>
    expect(clean).toMatchObject({ errors: 0, read_data: true, findings: [] })
    expect(clean.checked_by).toBe('alice')

    const h = ok(await s.call('GET', repoPath, { token: w.tokens.admin })).json as Health
    expect(h.last_check).toMatchObject({ errors: 0, read_data: true })
    // Flip a byte in the middle of the largest pack.
    const data = join(h.location, 'data')
    let largest = { path: '', size: 0 }
    for (const d of await readdir(data))
      for (const f of await readdir(join(data, d))) {
        const bytes = await readFile(join(data, d, f))
        if (bytes.length > largest.size) largest = { path: join(data, d, f), size: bytes.length }
      }
    const bytes = await readFile(largest.path)
    bytes[bytes.length >> 1]! ^= 0xff
    await writeFile(largest.path, bytes)

    const structural = ok(
      await s.call('POST', `${repoPath}/check`, { token: w.tokens.admin, body: {} }),
    ).json as NonNullable<Health['last_check']>
    expect(structural).toMatchObject({ errors: 0, read_data: false })
    const damaged = ok(
      await s.call('POST', `${repoPath}/check`, {
        token: w.tokens.admin,
        body: { read_data: true },
      }),
    ).json as NonNullable<Health['last_check']>
    expect(damaged.errors).toBeGreaterThan(0)
    expect(damaged.findings.join('\n')).toContain(largest.path.split('/').at(-1)!.slice(0, 8))
    const after = ok(await s.call('GET', repoPath, { token: w.tokens.admin })).json as Health
    expect(after.last_check).toMatchObject({ errors: damaged.errors, read_data: true })
  })
})
