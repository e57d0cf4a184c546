import { randomBytes } from 'node:crypto'
import type mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseMysqlUrl, restoreMysql } from '../../../src/capture/mysql/index.js'
import { RefusedError } from '../../../src/errors.js'
import type { Repository, StoredSnapshot } from '../../../src/repo/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  describeDatabase,
  sideDatabasesLeft,
  driverContext,
  snapshotDatabases,
  testDbName,
  treeOf,
} from './mysql-harness.js'

/**
 * Triggers, views, routines and events are created after the switch's RENAME: a user who may
 * load tables but not create those objects (here: not as their definer) must be refused
 * before anything changes, not after the new tables are in.
 */
describe('mysql restore without the privileges for the objects', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  let snap: StoredSnapshot
  const db = testDbName('privs')
  const definer = `ct_privs_definer_${randomBytes(3).toString('hex')}`
  const loader = `ct_privs_loader_${randomBytes(3).toString('hex')}`
  const password = 'loader-Pw-38x'

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-privs')
    admin = await adminConnection()
    await admin.query(`
      CREATE USER '${definer}'@'localhost';
      GRANT ALL ON \`${db}\`.* TO '${definer}'@'localhost';
      CREATE DATABASE \`${db}\`;
      CREATE TABLE \`${db}\`.orders (id INT PRIMARY KEY, total INT) ENGINE=InnoDB;
      CREATE TABLE \`${db}\`.audit (id INT AUTO_INCREMENT PRIMARY KEY, order_id INT) ENGINE=InnoDB;
      CREATE DEFINER='${definer}'@'localhost' TRIGGER \`${db}\`.orders_audit
        AFTER INSERT ON \`${db}\`.orders FOR EACH ROW INSERT INTO \`${db}\`.audit (order_id) VALUES (NEW.id);
      INSERT INTO \`${db}\`.orders VALUES (1, 10), (2, 20);
      CREATE USER '${loader}'@'%' IDENTIFIED BY '${password}';
      GRANT ALL ON \`${db.replace(/_/g, '\\_')}%\`.* TO '${loader}'@'%';`)
    repo = await createRepo(tmp.path)
    snap = (await snapshotDatabases(repo, [db])).snap
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.query(`DROP USER IF EXISTS '${loader}'@'%'`)
    await admin.query(`DROP USER IF EXISTS '${definer}'@'localhost'`)
    await admin.end()
    await tmp.cleanup()
  })

  it('refuses before loading, naming the object and the privilege, and changes nothing', async () => {
    await admin.query(`UPDATE \`${db}\`.orders SET total = 99 WHERE id = 1`)
    const before = await describeDatabase(admin, db)
    const asLoader = parseMysqlUrl(`mysql://${loader}:${password}@127.0.0.1:3306/${db}`)
    const run = restoreMysql(await treeOf(repo, snap), asLoader, driverContext())
    await expect(run).rejects.toBeInstanceOf(RefusedError)
    await expect(run).rejects.toThrow(
      new RegExp(
        `^The restore could not create the trigger ${db}\\.orders_audit \\(definer \`${definer}\`@\`localhost\`\\) on .*: Access denied; you need \\(at least one of\\) the SUPER, SET USER privilege\\(s\\) for this operation\\. Nothing was changed: grant the missing privilege, or restore as a user who has it\\.$`,
      ),
    )
    await expect(run).rejects.not.toThrow(password)
    expect(await describeDatabase(admin, db)).toEqual(before)
    expect(await sideDatabasesLeft(admin, db)).toEqual([])
  })

  it('restores once the privilege is granted, the trigger included', async () => {
    await admin.query(`GRANT SET USER ON *.* TO '${loader}'@'%'`)
    const asLoader = parseMysqlUrl(`mysql://${loader}:${password}@127.0.0.1:3306/${db}`)
    await restoreMysql(await treeOf(repo, snap), asLoader, driverContext())
    const [[row]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT total FROM \`${db}\`.orders WHERE id = 1`,
    )
    expect(Number(row?.total)).toBe(10)
    const [triggers] = await admin.query<mysql.RowDataPacket[]>(
      'SELECT DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?',
      [db],
    )
    expect(triggers.map((t) => String(t.DEFINER))).toEqual([`${definer}@localhost`])
  })
})
