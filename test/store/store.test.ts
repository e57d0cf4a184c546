import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ENVIRONMENT_TYPES as SNAPSHOT_ENVIRONMENT_TYPES,
  PLANS as SNAPSHOT_PLANS,
} from '../../src/snapshots/index.js'
import {
  ENVIRONMENT_TYPES,
  isForeignKeyViolation,
  isUniqueViolation,
  openStore,
  PLANS,
  type NewActivity,
} from '../../src/store/index.js'
import { makeTestStore, STORE_DIALECTS_UNDER_TEST, type TestStore } from '../helpers/test-store.js'

const NOW = '2026-03-08T17:07:01.000Z'

function activity(id: string, state: NewActivity['state'] = 'pending'): NewActivity {
  return {
    id,
    project_id: 'shop',
    environment: 'develop',
    type: 'environment.backup',
    state,
    result: state === 'complete' ? 'success' : null,
    automated: 0,
    created_by: 'alice',
    params: '{}',
    snapshot_id: null,
    error_code: null,
    error_message: null,
    bytes_total: null,
    items_total: null,
    phase: null,
    worker_id: null,
    heartbeat_at: null,
    label: null,
    created_at: NOW,
    started_at: null,
    completed_at: null,
    updated_at: NOW,
  }
}

it('mirrors the snapshots layer: plans and environment types', () => {
  expect(PLANS).toEqual(SNAPSHOT_PLANS)
  expect(ENVIRONMENT_TYPES).toEqual(SNAPSHOT_ENVIRONMENT_TYPES)
})

describe.each(STORE_DIALECTS_UNDER_TEST)('store on %s', (dialect) => {
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
        created_at: NOW,
      })
      .execute()
    await t.store.db
      .insertInto('environments')
      .values({
        project_id: 'shop',
        name: 'develop',
        type: 'integration',
        status: 'active',
        mounts: '[]',
        secret_spec: 'sealed',
        service_names: '[]',
        git_dir: null,
        label: null,
        staging_dirty: 0,
        created_at: NOW,
      })
      .execute()
  })
  afterEach(() => t.cleanup())

  it('migrates idempotently: reopening finds nothing to do', async () => {
    const again = await openStore({
      location: t.location,
      ...(t.schema ? { schema: t.schema } : {}),
    })
    try {
      const rows = await again.db.selectFrom('projects').select('id').execute()
      expect(rows).toEqual([{ id: 'shop' }])
    } finally {
      await again.close()
    }
  })

  it('allows one busy activity per environment, even under concurrent inserts', async () => {
    const results = await Promise.allSettled(
      ['a1', 'a2', 'a3', 'a4'].map((id) =>
        t.store.db.insertInto('activities').values(activity(id)).execute(),
      ),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    for (const r of results)
      if (r.status === 'rejected')
        expect(isUniqueViolation(r.reason, 'activities_one_busy')).toBe(true)
    // Finished activities do not count.
    await t.store.db.insertInto('activities').values(activity('done', 'complete')).execute()
    const rows = await t.store.db.selectFrom('activities').select('id').execute()
    expect(rows).toHaveLength(2)
  })

  it('tells a duplicate primary key from the busy rule', async () => {
    await t.store.db.insertInto('activities').values(activity('x1', 'complete')).execute()
    const e = await t.store.db
      .insertInto('activities')
      .values(activity('x1', 'complete'))
      .execute()
      .catch((err: unknown) => err)
    expect(isUniqueViolation(e)).toBe(true)
    expect(isUniqueViolation(e, 'activities_one_busy')).toBe(false)
    expect(isUniqueViolation(e, 'activities_pkey')).toBe(true)
  })

  it('enforces the closed sets and the result-only-when-complete rule', async () => {
    const bad = [
      { ...activity('b1', 'complete'), state: 'done' as never },
      { ...activity('b2', 'pending'), result: 'success' as const },
      { ...activity('b3', 'complete'), result: null },
    ]
    for (const row of bad)
      await expect(t.store.db.insertInto('activities').values(row).execute()).rejects.toThrow()
  })

  it('cascades deletes from a project to its environments and activities', async () => {
    await t.store.db.insertInto('activities').values(activity('c1', 'complete')).execute()
    await t.store.db
      .insertInto('activity_log')
      .values({ activity_id: 'c1', seq: 1, at: NOW, line: 'hello' })
      .execute()
    await t.store.db.deleteFrom('projects').where('id', '=', 'shop').execute()
    expect(await t.store.db.selectFrom('activities').select('id').execute()).toEqual([])
    expect(await t.store.db.selectFrom('activity_log').select('seq').execute()).toEqual([])
  })

  it('refuses children of a missing parent', async () => {
    const e = await t.store.db
      .insertInto('activities')
      .values({ ...activity('d1', 'complete'), environment: 'nope' })
      .execute()
      .catch((err: unknown) => err)
    expect(isForeignKeyViolation(e)).toBe(true)
  })

  it('returns big sizes as numbers and numbers the audit log in order', async () => {
    await t.store.db
      .insertInto('snapshots')
      .values({
        project_id: 'shop',
        id: '5d1e0b7a',
        full_id: '5d1e0b7a'.padEnd(64, '0'),
        environment: 'develop',
        created_at: NOW,
        live: 0,
        automated: 0,
        size: 3 * 2 ** 40,
        commit_sha: null,
        created_by: 'alice',
        pause_ms: 12,
        schedule_id: null,
        deleted_at: null,
        expired_at: null,
      })
      .execute()
    const s = await t.store.db.selectFrom('snapshots').select('size').executeTakeFirstOrThrow()
    expect(s.size).toBe(3 * 2 ** 40)
    for (const action of ['one', 'two'])
      await t.store.db.insertInto('audit').values({ at: NOW, action, detail: '{}' }).execute()
    const audit = await t.store.db
      .selectFrom('audit')
      .select(['id', 'action'])
      .orderBy('id')
      .execute()
    expect(audit.map((a) => a.action)).toEqual(['one', 'two'])
    expect(audit[1]!.id).toBeGreaterThan(audit[0]!.id)
  })
})

describe('the SQLite file', () => {
  it('is readable by its owner only, with its WAL, also when it existed world-readable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'coffer-store-mode-'))
    try {
      const fresh = join(dir, 'fresh', 'coffer.db')
      const store = await openStore({ location: fresh })
      await store.db.insertInto('settings').values({ key: 'probe', value: '1' }).execute()
      expect((await stat(fresh)).mode & 0o777).toBe(0o600)
      expect((await stat(`${fresh}-wal`)).mode & 0o777).toBe(0o600)
      await store.close()

      const old = join(dir, 'old.db')
      await writeFile(old, '', { mode: 0o644 })
      const again = await openStore({ location: old })
      expect((await stat(old)).mode & 0o777).toBe(0o600)
      await again.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
