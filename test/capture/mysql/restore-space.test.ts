import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import {
  parseMysqlUrl,
  restoreMysql,
  STAGING_SPACE_FACTOR,
} from '../../../src/capture/mysql/index.js'
import { RefusedError } from '../../../src/errors.js'
import type { Repository, StoredSnapshot } from '../../../src/repo/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  describeDatabase,
  sideDatabasesLeft,
  driverContext,
  MYSQL_URL,
  snapshotDatabases,
  testDbName,
  treeOf,
} from './mysql-harness.js'

// The restore measures the free room of the server's datadir (the server is on this machine)
// against the reloaded tables' bytes times a factor, and refuses before changing anything.
describe('mysql restore and room for staging', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  let snap: StoredSnapshot
  const db = testDbName('space')

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-space')
    admin = await adminConnection()
    await admin.query(`
      CREATE DATABASE \`${db}\`;
      CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB;
      USE \`${db}\`;
      INSERT INTO t SELECT seq, REPEAT('x', 100) FROM seq_1_to_1000;`)
    repo = await createRepo(tmp.path)
    snap = (await snapshotDatabases(repo, [db])).snap
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.end()
    await tmp.cleanup()
  })

  it('refuses clearly, changing nothing, when the datadir lacks room for staging', async () => {
    await admin.query(`UPDATE \`${db}\`.t SET v = 'changed' WHERE id = 7`)
    const before = await describeDatabase(admin, db)
    // About 100 kB of data times 1e15 is more than any disk here.
    const run = restoreMysql(await treeOf(repo, snap), parseMysqlUrl(MYSQL_URL), driverContext(), {
      spaceFactor: 1e15,
    })
    await expect(run).rejects.toBeInstanceOf(RefusedError)
    await expect(run).rejects.toMatchObject({ code: 'no_space' })
    await expect(run).rejects.toThrow(
      /^Not enough room for the staging copy on the server's datadir \/.*: the restore needs about .* \(.* of table data × 1000000000000000\) and .* is free\. Nothing was changed\.$/,
    )
    expect(await describeDatabase(admin, db)).toEqual(before)
    expect(await sideDatabasesLeft(admin, db)).toEqual([])
  })

  it('restores with the default factor when there is room', async () => {
    expect(STAGING_SPACE_FACTOR).toBeGreaterThanOrEqual(1)
    const result = await restoreMysql(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
    )
    // One row changed: patched in place (its staged row counted in the room needed above).
    expect(result.databases[0]).toMatchObject({ reload: [], patch: ['t'] })
    const [[row]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT v FROM \`${db}\`.t WHERE id = 7`,
    )
    expect(String(row?.v)).toBe('x'.repeat(100))
  })
})
