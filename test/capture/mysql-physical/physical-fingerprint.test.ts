import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import { parseMysqlUrl } from '../../../src/capture/mysql/index.js'
import {
  parsePhysicalDatabaseEntry,
  restorePhysical,
  type PhysicalDatabaseEntry,
} from '../../../src/capture/mysql/physical/index.js'
import type { Repository, StoredSnapshot } from '../../../src/repo/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  describeDatabase,
  driverContext,
  MYSQL_URL,
  nextSecond,
  treeOf,
} from '../mysql/mysql-harness.js'
import { physicalDbName, snapshotPhysical, treeText } from './physical-harness.js'

/**
 * Physical snapshots record the table fingerprints too (docs/MYSQL.md, "Delta without
 * reading"): the next physical capture takes the content hash of a vouched, unchanged table
 * from its parent instead of reading the rows, and an in-place delta restore keeps such a
 * table without reading it.
 */
describe('mysql physical mode: table fingerprints', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  const db = physicalDbName('fprint')

  const tablesOf = async (snap: StoredSnapshot): Promise<PhysicalDatabaseEntry> => {
    const path = `services/mysql/${db}/physical/tables.json`
    return parsePhysicalDatabaseEntry(path, await treeText(await treeOf(repo, snap), path))
  }

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-physical-fprint')
    admin = await adminConnection()
    await admin.query(`CREATE DATABASE \`${db}\`; USE \`${db}\`;
      CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB;
      CREATE TABLE small (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
      INSERT INTO big SELECT seq, CONCAT('row ', seq) FROM seq_1_to_20000;
      INSERT INTO small VALUES (1, 1), (2, 2);`)
    repo = await createRepo(tmp.path)
    await nextSecond(admin)
  }, 60_000)
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.end()
    await tmp.cleanup()
  })

  it('reuses the parent’s content hash of an unchanged table and keeps it unread on restore', async () => {
    const first = await snapshotPhysical(repo, db, tmp.path)
    expect(first.captured.hashesReused).toBe(0)
    const firstTables = await tablesOf(first.snap)
    expect(firstTables.tables.map((t) => Boolean(t.unchangedSince))).toEqual([true, true])

    await admin.query(`UPDATE \`${db}\`.small SET v = 3 WHERE id = 2`)
    const want = await describeDatabase(admin, db)
    const second = await snapshotPhysical(repo, db, tmp.path, await treeOf(repo, first.snap))
    // big's hash came from the parent; small's was read (it changed).
    expect(second.captured.hashesReused).toBe(1)
    const secondTables = await tablesOf(second.snap)
    const hash = (e: PhysicalDatabaseEntry, n: string) =>
      e.tables.find((t) => t.name === n)?.content?.sha256
    expect(hash(secondTables, 'big')).toBe(hash(firstTables, 'big'))
    expect(hash(secondTables, 'small')).not.toBe(hash(firstTables, 'small'))

    // In place: big unchanged since the snapshot is kept without reading it.
    await admin.query(`DELETE FROM \`${db}\`.small`)
    const r = await restorePhysical(
      await treeOf(repo, second.snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
    )
    expect(r.databases[0]).toMatchObject({ kept: ['big'], keptUnread: ['big'] })
    expect(await describeDatabase(admin, db)).toEqual(want)
  }, 120_000)
})
