import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import { parseMysqlUrl, restoreMysql } from '../../../src/capture/mysql/index.js'
import { RefusedError } from '../../../src/errors.js'
import type { Repository, StoredSnapshot } from '../../../src/repo/index.js'
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

// A delta restore reloads whole groups of tables joined by foreign keys: RENAME TABLE carries a
// foreign key along with the table it references, so a kept table must never reference one
// moved out into the trash database. Tables patched in place stay where they are: a group of
// kept and patched tables needs no reload, one reloaded table takes its whole group along.
describe('mysql delta restore and foreign keys', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  let snap: StoredSnapshot
  let want: Record<string, string>
  const db = testDbName('fk')
  const q = (t: string): string => `\`${db}\`.\`${t}\``

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-fk-delta')
    admin = await adminConnection()
    await admin.query(`
      CREATE DATABASE \`${db}\`;
      CREATE TABLE ${q('parent')} (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB;
      CREATE TABLE ${q('child')} (id INT PRIMARY KEY, parent_id INT,
        CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES ${q('parent')} (id)) ENGINE=InnoDB;
      CREATE TABLE ${q('grandchild')} (id INT PRIMARY KEY, child_id INT,
        CONSTRAINT fk_grandchild_child FOREIGN KEY (child_id) REFERENCES ${q('child')} (id)) ENGINE=InnoDB;
      CREATE TABLE ${q('node')} (id INT PRIMARY KEY, up INT,
        CONSTRAINT fk_node_up FOREIGN KEY (up) REFERENCES ${q('node')} (id)) ENGINE=InnoDB;
      CREATE TABLE ${q('other')} (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
      INSERT INTO ${q('parent')} VALUES (1, 'one'), (2, 'two');
      INSERT INTO ${q('child')} VALUES (10, 1), (11, 2);
      INSERT INTO ${q('grandchild')} VALUES (100, 10), (101, 11);
      INSERT INTO ${q('node')} VALUES (1, NULL), (2, 1);
      INSERT INTO ${q('other')} VALUES (1, 1);`)
    repo = await createRepo(tmp.path)
    want = await describeDatabase(admin, db)
    snap = (await snapshotDatabases(repo, [db])).snap
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.end()
    await tmp.cleanup()
  })

  async function expectForeignKeysIntact(): Promise<void> {
    // Every foreign key of the database references a table of the database itself.
    const [fks] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT CONSTRAINT_NAME AS c, UNIQUE_CONSTRAINT_SCHEMA AS s, REFERENCED_TABLE_NAME AS t
       FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? ORDER BY 1`,
      [db],
    )
    expect(fks.map((r) => [String(r.c), String(r.s), String(r.t)])).toEqual([
      ['fk_child_parent', db, 'parent'],
      ['fk_grandchild_child', db, 'child'],
      ['fk_node_up', db, 'node'],
    ])
    for (const t of ['child', 'grandchild']) {
      const [[cr]] = await admin.query<mysql.RowDataPacket[]>(`SHOW CREATE TABLE ${q(t)}`)
      expect(String(cr?.['Create Table'])).not.toMatch(/__coffer_/)
    }
    // With checks on, a row violating each foreign key is refused.
    await admin.query('SET SESSION foreign_key_checks = 1')
    for (const sql of [
      `INSERT INTO ${q('child')} VALUES (99, 999)`,
      `INSERT INTO ${q('grandchild')} VALUES (999, 999)`,
      `INSERT INTO ${q('node')} VALUES (99, 999)`,
    ])
      await expect(admin.query(sql)).rejects.toMatchObject({ errno: 1452 })
    await expect(admin.query(`DELETE FROM ${q('parent')} WHERE id = 1`)).rejects.toMatchObject({
      errno: 1451,
    })
  }

  it('reloads the children of a changed parent and keeps them pointing at the target', async () => {
    await admin.query(`UPDATE ${q('parent')} SET name = 'changed' WHERE id = 1`)
    const result = await restoreMysql(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
      { patch: false },
    )
    const plan = result.databases[0]!
    expect([...plan.reload].sort()).toEqual(['child', 'grandchild', 'parent'])
    expect([...plan.keep].sort()).toEqual(['node', 'other'])
    expect(await describeDatabase(admin, db)).toEqual(want)
    await expectForeignKeysIntact()
  })

  it('reloads the parent of a changed child, and a self-referencing table alone', async () => {
    await admin.query(`UPDATE ${q('grandchild')} SET child_id = 10 WHERE id = 101`)
    await admin.query(`UPDATE ${q('node')} SET up = 2 WHERE id = 1`)
    const result = await restoreMysql(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
      { patch: false },
    )
    const plan = result.databases[0]!
    expect([...plan.reload].sort()).toEqual(['child', 'grandchild', 'node', 'parent'])
    expect(plan.keep).toEqual(['other'])
    expect(await describeDatabase(admin, db)).toEqual(want)
    await expectForeignKeysIntact()
  })

  it('refuses, changing nothing, to reload one table of a foreign-key group alone', async () => {
    await admin.query(`UPDATE ${q('child')} SET parent_id = 1 WHERE id = 11`)
    const before = await describeDatabase(admin, db)
    const run = restoreMysql(await treeOf(repo, snap), parseMysqlUrl(MYSQL_URL), driverContext(), {
      include: [`${db}/child`],
      patch: false,
    })
    await expect(run).rejects.toBeInstanceOf(RefusedError)
    await expect(run).rejects.toThrow(/foreign key/)
    expect(await describeDatabase(admin, db)).toEqual(before)
    // Patched in place, the table moves nowhere: restoring it alone breaks no key.
    const patched = await restoreMysql(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
      { include: [`${db}/child`] },
    )
    expect(patched.databases[0]).toMatchObject({ reload: [], patch: ['child'], patchRows: 1 })
    expect(await describeDatabase(admin, db)).toEqual(want)
    await expectForeignKeysIntact()
  })

  it('patches changed tables of a group in place, their keys untouched', async () => {
    await admin.query(`UPDATE ${q('parent')} SET name = 'changed' WHERE id = 1`)
    await admin.query(`DELETE FROM ${q('grandchild')} WHERE id = 101`)
    await admin.query(`INSERT INTO ${q('child')} VALUES (12, 1)`)
    const result = await restoreMysql(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
    )
    const plan = result.databases[0]!
    expect(plan.reload).toEqual([])
    expect([...plan.patch].sort()).toEqual(['child', 'grandchild', 'parent'])
    expect(plan.patchRows).toBe(3)
    expect([...plan.keep].sort()).toEqual(['node', 'other'])
    expect(await describeDatabase(admin, db)).toEqual(want)
    await expectForeignKeysIntact()
  })

  it('reloads a whole group, patching none of it, when one of its tables must be reloaded', async () => {
    await admin.query(`UPDATE ${q('parent')} SET name = 'changed' WHERE id = 2`)
    await admin.query(`ALTER TABLE ${q('grandchild')} COMMENT 'other definition'`)
    const result = await restoreMysql(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
    )
    const plan = result.databases[0]!
    expect([...plan.reload].sort()).toEqual(['child', 'grandchild', 'parent'])
    expect(plan.patch).toEqual([])
    expect(plan.patchRows).toBe(0)
    expect(await describeDatabase(admin, db)).toEqual(want)
    await expectForeignKeysIntact()
  })
})
