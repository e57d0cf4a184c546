import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseMysqlUrl, restoreMysql } from '../../../src/capture/mysql/index.js'
import { remedyOf } from '../../../src/capture/mysql/restore-remedy.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  describeDatabase,
  driverContext,
  sideDatabasesLeft,
  snapshotDatabases,
  testDbName,
  treeOf,
} from './mysql-harness.js'

/**
 * A restore refused LOAD DATA LOCAL INFILE says how to allow it. The refusal is the real
 * server's: a client that does not offer local files gets the same error as a server with
 * `local_infile` off (MySQL 8's default), which the suite cannot turn off for the other files
 * that run beside it.
 */
describe('the remedy a failed restore names', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  const db = testDbName('remedy')
  const user = `remedy_${process.pid}`

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-remedy')
    admin = await adminConnection()
    await admin.query(`CREATE DATABASE \`${db}\``)
    await admin.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY)`)
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.query(`DROP USER IF EXISTS '${user}'@'%'`)
    await admin.end()
    await tmp.cleanup()
  })

  it('says to turn local_infile on when the server refuses local files', async () => {
    const file = join(tmp.path, 'rows.tsv')
    await writeFile(file, '1\n')
    const c = await mysql.createConnection({
      host: '127.0.0.1',
      user: 'root',
      flags: ['-LOCAL_FILES'],
    })
    try {
      const refused = await c.query(`LOAD DATA LOCAL INFILE '${file}' INTO TABLE \`${db}\`.t`).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(refused).toBeDefined()
      expect(remedyOf(refused)).toContain("turn the server's local_infile on")
    } finally {
      await c.end()
    }
  })

  it('gives a user granted its databases only the grant its side databases need', async () => {
    // As hosting panels and PaaS set up an application's user: all privileges on its own
    // databases, nothing else.
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'remedy-Pw1'`)
    await admin.query(`GRANT ALL ON \`${db}\`.* TO '${user}'@'%'`)
    await admin.query(`INSERT INTO \`${db}\`.t VALUES (1), (2)`)
    const repo = await createRepo(tmp.path)
    const { snap } = await snapshotDatabases(repo, [db])
    await admin.query(`DELETE FROM \`${db}\`.t WHERE id = 2`)
    const before = await describeDatabase(admin, db)
    const url = parseMysqlUrl(`mysql://${user}:remedy-Pw1@127.0.0.1:3306`)

    const refused = await restoreMysql(await treeOf(repo, snap), url, driverContext()).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    const grant = `GRANT ALL ON \`${db.replaceAll('_', '\\_')}\\_\\_coffer\\_%\`.* TO '${user}'@'%'`
    expect(refused?.message).toMatch(
      new RegExp(
        `^The MySQL restore into mysql://${user}@127\\.0\\.0\\.1:3306 failed: Access denied for user '${user}'@'%' to database '${db}__coffer_stage_[0-9a-f]{8}'\\. A restore stages each database in side databases beside it \\(${db}__coffer_stage_…, _trash_…, _jrnl_…\\): grant the user all privileges on them \\(`,
      ),
    )
    expect(refused?.message.endsWith(`(${grant}). Nothing was changed.`)).toBe(true)
    expect(await describeDatabase(admin, db)).toEqual(before)
    expect(await sideDatabasesLeft(admin, db)).toEqual([])

    // The grant it names is the one the restore needs.
    await admin.query(grant)
    await restoreMysql(await treeOf(repo, snap), url, driverContext())
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT id FROM \`${db}\`.t ORDER BY id`,
    )
    expect(rows.map((r) => Number(r.id))).toEqual([1, 2])
    expect(await sideDatabasesLeft(admin, db)).toEqual([])
  })

  it('names no remedy for other failures', async () => {
    const other = await admin.query('SELECT * FROM no_such_db.t').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(other).toBeDefined()
    expect(remedyOf(other)).toBe('')
  })
})
