import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import { parseMysqlUrl, restoreMysql } from '../../../src/capture/mysql/index.js'
import type { Repository } from '../../../src/repo/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  describeDatabase,
  driverContext,
  MYSQL_URL,
  snapshotDatabases,
  testDbName,
  treeOf,
} from './mysql-harness.js'
import { TYPES_FIXTURE } from './types-fixture.js'

describe('mysql driver round trip', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  const db = testDbName('rt')
  const copy = `${db}_copy`

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-round-trip')
    admin = await adminConnection()
    await admin.query(TYPES_FIXTURE.replaceAll('{DB}', db))
    repo = await createRepo(tmp.path)
  })
  afterAll(async () => {
    for (const d of [db, copy]) await admin.query(`DROP DATABASE IF EXISTS \`${d}\``)
    await admin.end()
    await tmp.cleanup()
  })

  it('restores every table, object and value exactly, into another database name', async () => {
    const want = await describeDatabase(admin, db)
    const { snap, result } = await snapshotDatabases(repo, [db])
    expect(result.mode).toBe('consistent')
    expect(result.nonTransactional).toEqual([`${db}.legacy`])
    const tables = result.databases[0]!.tables
    expect(tables.find((t) => t.name === 'kinds')?.rows).toBe(4)
    expect(tables.find((t) => t.name === 'audit')?.rows).toBe(3)

    const restored = await restoreMysql(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
      {
        databaseMap: { [db]: copy },
      },
    )
    expect(restored.databases[0]?.target).toBe(copy)
    const got = await describeDatabase(admin, copy)
    expect(got).toEqual(want)
    // The trigger's table holds the snapshot's rows, not extra ones fired by the load.
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT what FROM \`${copy}\`.audit ORDER BY id`,
    )
    expect(rows.map((r) => String(r.what))).toEqual(['order 1', 'order 2', 'order 3'])
    // The sequence continues where it was.
    const [[next]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT NEXTVAL(\`${copy}\`.seq_invoice) AS n`,
    )
    expect(Number(next?.n)).toBeGreaterThan(105)
    // No staging or trash database is left.
    const [side] = await admin.query<mysql.RowDataPacket[]>(
      "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '%\\_\\_coffer\\_%'",
    )
    expect(side.filter((r) => String(r.SCHEMA_NAME).startsWith(db))).toEqual([])
  })
})
