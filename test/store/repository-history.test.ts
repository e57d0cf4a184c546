import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isUniqueViolation } from '../../src/store/index.js'
import { makeTestStore, STORE_DIALECTS_UNDER_TEST, type TestStore } from '../helpers/test-store.js'

const MINUTE = '2026-03-08T17:07:00.000Z'

function sample(over: { stored_bytes?: number; taken_at?: string } = {}) {
  return {
    project_id: 'shop',
    taken_at: MINUTE,
    stored_bytes: 1024,
    packs: 1,
    snapshots: 1,
    snapshot_bytes: 2048,
    ...over,
  }
}

/** The `repository_sizes` table (migration 0005) on both stores. */
describe.each(STORE_DIALECTS_UNDER_TEST)('repository sizes on %s', (dialect) => {
  let t: TestStore

  beforeEach(async (ctx) => {
    t = await makeTestStore(dialect, ctx.task.name)
    await t.store.db
      .insertInto('projects')
      .values({
        id: 'shop',
        title: 'Shop',
        plan: 'starter',
        repo_location: '/tmp/x',
        repo_secret: 'sealed',
        created_at: MINUTE,
      })
      .execute()
  })
  afterEach(() => t.cleanup())

  it('keeps one sample per project and minute: the key refuses a second, an upsert replaces it', async () => {
    await t.store.db.insertInto('repository_sizes').values(sample()).execute()
    const again = await t.store.db
      .insertInto('repository_sizes')
      .values(sample({ stored_bytes: 1 }))
      .execute()
      .catch((e: unknown) => e)
    expect(isUniqueViolation(again)).toBe(true)
    const newer = { stored_bytes: 4096, packs: 2, snapshots: 2, snapshot_bytes: 8192 }
    await t.store.db
      .insertInto('repository_sizes')
      .values({ ...sample(), ...newer })
      .onConflict((oc) => oc.columns(['project_id', 'taken_at']).doUpdateSet(newer))
      .execute()
    expect(await t.store.db.selectFrom('repository_sizes').selectAll().execute()).toEqual([
      { project_id: 'shop', taken_at: MINUTE, ...newer },
    ])
  })

  it('reads sizes beyond 32 bits back as numbers', async () => {
    const big = 5 * 2 ** 40 + 7
    await t.store.db
      .insertInto('repository_sizes')
      .values({ ...sample(), stored_bytes: big, packs: 300_000, snapshot_bytes: 3 * big })
      .execute()
    const row = await t.store.db
      .selectFrom('repository_sizes')
      .selectAll()
      .executeTakeFirstOrThrow()
    expect(row).toMatchObject({ stored_bytes: big, packs: 300_000, snapshot_bytes: 3 * big })
    expect(typeof row.stored_bytes).toBe('number')
  })

  it('goes with its project: deleting the project deletes its samples', async () => {
    await t.store.db
      .insertInto('repository_sizes')
      .values([sample(), sample({ taken_at: '2026-03-08T17:08:00.000Z' })])
      .execute()
    await t.store.db.deleteFrom('projects').where('id', '=', 'shop').execute()
    expect(await t.store.db.selectFrom('repository_sizes').selectAll().execute()).toEqual([])
  })
})
