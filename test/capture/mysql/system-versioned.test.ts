import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import { parseMysqlUrl, restoreMysql } from '../../../src/capture/mysql/index.js'
import type { MysqlCaptureResult } from '../../../src/capture/mysql/index.js'
import type { Repository, StoredSnapshot } from '../../../src/repo/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  driverContext,
  MYSQL_URL,
  snapshotDatabases,
  testDbName,
  treeOf,
} from './mysql-harness.js'

/**
 * System-versioned tables keep their past rows beside the current ones: a capture stores
 * every version with its period (src/capture/mysql/system-versioning.ts) and a restore puts
 * them back, compared here row for row `FOR SYSTEM_TIME ALL`; a transaction-precise table,
 * whose history cannot be loaded back, is named and restored with its current rows.
 */
describe('mysql system-versioned tables', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  let snap: StoredSnapshot
  let result: MysqlCaptureResult
  const db = testDbName('sysver')
  const copy = `${db}_copy`
  let want: Record<string, unknown[]>

  /** Every version of every row of the versioned tables, and the other tables' rows. */
  const contents = async (d: string): Promise<Record<string, unknown[]>> => {
    const q = async (sql: string): Promise<unknown[]> =>
      (await admin.query<mysql.RowDataPacket[]>(sql))[0].map((r) => ({ ...r }))
    return {
      implicit: await q(
        `SELECT id, v, row_start, row_end FROM \`${d}\`.implicit FOR SYSTEM_TIME ALL ORDER BY id, row_end`,
      ),
      explicit: await q(
        `SELECT * FROM \`${d}\`.explicit FOR SYSTEM_TIME ALL ORDER BY id, \`e nd\``,
      ),
      current: await q(`SELECT * FROM \`${d}\`.implicit ORDER BY id`),
      precise: await q(`SELECT id, v FROM \`${d}\`.precise ORDER BY id`),
      plain: await q(`SELECT * FROM \`${d}\`.plain ORDER BY id`),
    }
  }
  const restore = async (to: string) =>
    (
      await restoreMysql(await treeOf(repo, snap), parseMysqlUrl(MYSQL_URL), driverContext(), {
        databaseMap: { [db]: to },
      })
    ).databases[0]!

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-sysver')
    admin = await adminConnection()
    await admin.query(`CREATE DATABASE \`${db}\`; USE \`${db}\`;
      CREATE TABLE implicit (id INT PRIMARY KEY, v VARCHAR(20)) WITH SYSTEM VERSIONING;
      CREATE TABLE explicit (
        id INT PRIMARY KEY, v INT,
        -- an end column whose name must be quoted
        s TIMESTAMP(6) GENERATED ALWAYS AS ROW START,
        \`e nd\` TIMESTAMP(6) GENERATED ALWAYS AS ROW END,
        PERIOD FOR SYSTEM_TIME (s, \`e nd\`)) WITH SYSTEM VERSIONING;
      CREATE TABLE precise (
        id INT PRIMARY KEY, v INT,
        s BIGINT UNSIGNED GENERATED ALWAYS AS ROW START,
        e BIGINT UNSIGNED GENERATED ALWAYS AS ROW END,
        PERIOD FOR SYSTEM_TIME (s, e)) ENGINE=InnoDB WITH SYSTEM VERSIONING;
      CREATE TABLE plain (id INT PRIMARY KEY, v INT);
      INSERT INTO implicit SELECT seq, CONCAT('v', seq) FROM seq_1_to_300;
      UPDATE implicit SET v = CONCAT(v, ' changed') WHERE id % 3 = 0;
      UPDATE implicit SET v = CONCAT(v, ' again') WHERE id % 6 = 0;
      DELETE FROM implicit WHERE id % 10 = 0;
      INSERT INTO explicit (id, v) VALUES (1, 1), (2, 2), (3, 3);
      UPDATE explicit SET v = v * 10 WHERE id < 3;
      DELETE FROM explicit WHERE id = 2;
      INSERT INTO precise (id, v) VALUES (1, 1);
      UPDATE precise SET v = 2;
      INSERT INTO plain VALUES (1, 1);`)
    repo = await createRepo(tmp.path)
    const taken = await snapshotDatabases(repo, [db])
    snap = taken.snap
    result = taken.result
    want = await contents(db)
    // The history is really there: 300 rows, 100 changed once, 50 of them twice, 30 deleted.
    expect(want.implicit).toHaveLength(300 + 100 + 50)
    expect(want.current).toHaveLength(270)
    expect(want.explicit).toHaveLength(3 + 2)
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.query(`DROP DATABASE IF EXISTS \`${copy}\``)
    await admin.end()
    await tmp.cleanup()
  })

  it('restores every version of every row, with its period, into another database', async () => {
    const plan = await restore(copy)
    expect([...plan.reload].sort()).toEqual(['explicit', 'implicit', 'plain', 'precise'])
    const got = await contents(copy)
    expect(got.implicit).toEqual(want.implicit)
    expect(got.explicit).toEqual(want.explicit)
    expect(got.current).toEqual(want.current)
    expect(got.plain).toEqual(want.plain)
  })

  it('names the transaction-precise table and restores its current rows only', async () => {
    expect(result.historyNotStored).toEqual([`${db}.precise`])
    const got = await contents(copy)
    expect(got.precise).toEqual([{ id: 1, v: 2 }])
    const [[versions]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM \`${copy}\`.precise FOR SYSTEM_TIME ALL`,
    )
    expect(Number(versions!.n)).toBe(1)
  })

  it('keeps a restored versioned table whose history is the snapshot, reloads a changed one', async () => {
    // The copy's tables are new to the server: this delta restore reads and hashes them,
    // history included, against the snapshot's.
    const same = await restore(copy)
    expect(same.reload).toEqual([])
    expect([...same.keep].sort()).toEqual(['explicit', 'implicit', 'plain', 'precise'])
    expect(same.unread).toEqual([])

    // A new version of one row: the current rows differ, and so does the history.
    await admin.query(`UPDATE \`${copy}\`.implicit SET v = 'late' WHERE id = 1`)
    // Only the history differs: a past version removed (as DELETE HISTORY would).
    await admin.query(
      `DELETE HISTORY FROM \`${copy}\`.explicit BEFORE SYSTEM_TIME '2038-01-01 00:00:00'`,
    )
    const changed = await restore(copy)
    expect([...changed.reload].sort()).toEqual(['explicit', 'implicit'])
    const got = await contents(copy)
    expect(got.implicit).toEqual(want.implicit)
    expect(got.explicit).toEqual(want.explicit)
    expect(got.current).toEqual(want.current)
  })
})
