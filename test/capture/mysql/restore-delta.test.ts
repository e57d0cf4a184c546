import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import { parseMysqlUrl, restoreMysql, RESTORE_PHASES } from '../../../src/capture/mysql/index.js'
import { CofferError } from '../../../src/errors.js'
import type { Repository, StoredSnapshot } from '../../../src/repo/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  captureFailureAfterSnapshotPoint,
  createRepo,
  describeDatabase,
  sideDatabasesLeft,
  driverContext,
  MYSQL_URL,
  snapshotDatabases,
  testDbName,
  treeOf,
} from './mysql-harness.js'
import { TYPES_FIXTURE } from './types-fixture.js'

describe('mysql restore in place', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  let snap: StoredSnapshot
  let want: Record<string, string>
  const db = testDbName('delta')

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-delta')
    admin = await adminConnection()
    await admin.query(TYPES_FIXTURE.replaceAll('{DB}', db))
    repo = await createRepo(tmp.path)
    want = await describeDatabase(admin, db)
    snap = (await snapshotDatabases(repo, [db])).snap
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.end()
    await tmp.cleanup()
  })

  it.each(RESTORE_PHASES.slice(0, 4))(
    'an abort at the start of phase %s leaves the target exactly as it was',
    async (phase) => {
      await admin.query(`UPDATE \`${db}\`.parent SET name = 'changed' WHERE id = 1`)
      const before = await describeDatabase(admin, db)
      const abort = new AbortController()
      const run = restoreMysql(
        await treeOf(repo, snap),
        parseMysqlUrl(MYSQL_URL),
        driverContext(abort.signal),
        {
          onPhase: (p) => {
            if (p === phase) abort.abort(new Error(`stopped at ${phase}`))
          },
        },
      )
      await expect(run).rejects.toThrow(`stopped at ${phase}`)
      expect(await describeDatabase(admin, db)).toEqual(before)
      expect(await sideDatabasesLeft(admin, db)).toEqual([])
    },
  )

  it('makes the database equal the snapshot and reloads only the tables that changed', async () => {
    await admin.query(`
      UPDATE \`${db}\`.kinds SET u = 'edited' WHERE id = 2;
      DELETE FROM \`${db}\`.child WHERE id = 12;
      DROP TABLE \`${db}\`.nopk;
      CREATE TABLE \`${db}\`.extra (id INT PRIMARY KEY);
      DROP VIEW \`${db}\`.a_first;
      DROP PROCEDURE \`${db}\`.count_orders;`)
    const result = await restoreMysql(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
    )
    const plan = result.databases[0]!
    // A table without a primary key and a sequence are reloaded; the others that changed keep
    // their definition and are patched in place: the rows of every type in `kinds` too.
    expect([...plan.reload].sort()).toEqual(['nopk', 'seq_invoice'])
    expect([...plan.patch].sort()).toEqual(['child', 'kinds', 'parent'])
    expect(plan.drop).toEqual(['extra'])
    expect(plan.keep).toContain('orders')
    expect(plan.keep).toContain('audit')
    expect(await describeDatabase(admin, db)).toEqual(want)

    // A second restore finds nothing to load but the sequence (whose state is not hashed).
    const again = await restoreMysql(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
    )
    expect(again.databases[0]!.reload).toEqual(['seq_invoice'])
    expect(await describeDatabase(admin, db)).toEqual(want)
  })

  it('fails clearly and writes no snapshot when the server kills the capture connection', async () => {
    const before = (await repo.listSnapshots()).length
    const err = await captureFailureAfterSnapshotPoint(
      repo,
      `${MYSQL_URL}/${db}?connections=2`,
      // The server ends one of the snapshot connections (as an operator's KILL or a crash would).
      (capture) => admin.query(`KILL ${capture.connectionIds[1]!}`),
    )
    expect(err).toBeInstanceOf(CofferError)
    expect((err as CofferError).code).toBe('capture_failed')
    expect((err as Error).message).toMatch(
      /^The MySQL capture of mysql:\/\/root@127\.0\.0\.1:3306 failed/,
    )
    expect((await repo.listSnapshots()).length).toBe(before)
  })
})
