import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PgBossJobs, queueName } from '../../src/jobs/pg-boss-jobs.js'
import { makeTestStore, type TestStore } from '../helpers/test-store.js'

/**
 * Queues are partitions of pg-boss's job table: creating several at once, from several
 * processes, while other transactions write jobs, takes conflicting locks. Every activity
 * must still be enqueued exactly once.
 */
describe('pg-boss queues created concurrently', () => {
  let t: TestStore
  let a: PgBossJobs
  let b: PgBossJobs

  beforeAll(async () => {
    t = await makeTestStore('postgres', 'boss-queues')
    a = await PgBossJobs.start({ store: t.store })
    b = await PgBossJobs.start({ store: t.store })
  })
  afterAll(async () => {
    await a?.stop(0)
    await b?.stop(0)
    await t?.cleanup()
  })

  it('enqueues every job while two instances create the same new queues at once', async () => {
    const labels = [null, ...Array.from({ length: 11 }, (_, i) => `site-${i}`)]
    const jobs = labels.flatMap((label, i) =>
      [a, b].map((boss, j) => ({ boss, label, activityId: `act-${i}-${j}` })),
    )
    await Promise.all(
      jobs.map(async ({ boss, label, activityId }) => {
        await boss.prepare(label)
        await t.store.db.transaction().execute((trx) => boss.enqueue(trx, { activityId, label }))
      }),
    )
    const pg = t.store.postgres!
    const { sql } = await import('kysely')
    const rows = await sql<{ name: string; activity: string }>`
      select name, data->>'activityId' as activity
      from ${sql.table(`${pg.schema}_boss.job`)}`.execute(t.store.db)
    const got = rows.rows.map((r) => `${r.name} ${r.activity}`).sort()
    const want = jobs.map((j) => `${queueName(j.label)} ${j.activityId}`).sort()
    expect(got).toEqual(want)
  })
})
