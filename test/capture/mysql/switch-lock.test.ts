import type mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseMysqlUrl, restoreMysql } from '../../../src/capture/mysql/index.js'
import { CofferError } from '../../../src/errors.js'
import type { Repository, StoredSnapshot } from '../../../src/repo/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  describeDatabase,
  driverContext,
  MYSQL_URL,
  sideDatabasesLeft,
  snapshotDatabases,
  testDbName,
  treeOf,
} from './mysql-harness.js'

// A connection in a long transaction that read a table (a report, a stuck worker) holds its
// metadata lock until it ends. Before, the switch's DROP TRIGGER or RENAME waited for it past
// the point of no return (the server's lock_wait_timeout is a day by default), with the
// application's queries on the table queued behind; now the restore finds it before and is
// refused, nothing changed.
describe('a table held by a long transaction at the switch', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let reader: mysql.Connection
  let repo: Repository
  let snap: StoredSnapshot
  const db = testDbName('switch_lock')

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-switch-lock')
    admin = await adminConnection()
    reader = await adminConnection()
    await admin.query(`CREATE DATABASE \`${db}\``)
    await admin.query(`CREATE TABLE \`${db}\`.orders (id INT PRIMARY KEY, total INT)`)
    await admin.query(`CREATE TABLE \`${db}\`.items (id INT PRIMARY KEY, sku TEXT)`)
    // A trigger: the table's patch is left to the switch, which drops the trigger first.
    await admin.query(
      `CREATE TRIGGER \`${db}\`.orders_total BEFORE INSERT ON \`${db}\`.orders FOR EACH ROW SET NEW.total = NEW.total`,
    )
    await admin.query(`INSERT INTO \`${db}\`.orders VALUES (1, 10), (2, 20)`)
    await admin.query(`INSERT INTO \`${db}\`.items VALUES (1, 'a'), (2, 'b')`)
    repo = await createRepo(tmp.path)
    snap = (await snapshotDatabases(repo, [db])).snap
  })
  afterAll(async () => {
    await reader.end()
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.end()
    await tmp.cleanup()
  })

  it('refuses the restore before its switch, naming the transaction, and goes through once it ends', async () => {
    await admin.query(`UPDATE \`${db}\`.orders SET total = 99 WHERE id = 2`)
    await admin.query(`UPDATE \`${db}\`.items SET sku = 'z' WHERE id = 2`)
    const before = await describeDatabase(admin, db)
    await reader.query('START TRANSACTION')
    await reader.query(`SELECT * FROM \`${db}\`.orders`)

    const err = await restoreMysql(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
    ).then(
      () => undefined,
      (e: unknown) => e as CofferError,
    )
    expect(err).toBeInstanceOf(CofferError)
    expect(err!.code).toBe('conflict')
    expect(err!.message).toMatch(
      new RegExp(
        `^The restore's switch needs its tables to itself, and another connection has held one of them for more than 5 s, probably the oldest open transaction: connection \\d+ of \\S+@\\S+, open for \\d+ s\\. Nothing was changed: end that transaction \\(or wait for it\\) and restore again\\.$`,
      ),
    )
    await reader.query('COMMIT')
    expect(await describeDatabase(admin, db)).toEqual(before)
    expect(await sideDatabasesLeft(admin, db)).toEqual([])

    await restoreMysql(await treeOf(repo, snap), parseMysqlUrl(MYSQL_URL), driverContext())
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT o.total, i.sku FROM \`${db}\`.orders o JOIN \`${db}\`.items i USING (id) WHERE id = 2`,
    )
    expect(rows).toEqual([{ total: 20, sku: 'b' }])
  })
})
