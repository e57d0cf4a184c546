import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import {
  captureMysql,
  parseMysqlUrl,
  restoreMysql,
  snapshotTreeReader,
} from '../../../src/capture/mysql/index.js'
import { openSession } from '../../../src/capture/mysql/session.js'
import { applyPatches } from '../../../src/capture/mysql/table-patch.js'
import {
  RepoReader,
  SnapshotWriter,
  type Repository,
  type StoredSnapshot,
} from '../../../src/repo/index.js'
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

// A delta restore patches a table with the snapshot's definition and few changed rows in place
// (docs/MYSQL.md, "Patching a table in place"): only those rows are rewritten, in one
// transaction, without the target's triggers, and the table ends equal to the snapshot.
describe('mysql delta restore: tables patched in place', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  let snap: StoredSnapshot
  let want: Record<string, string>
  const db = testDbName('patch')
  const q = (t: string): string => `\`${db}\`.\`${t}\``
  const restore = async (opts: Parameters<typeof restoreMysql>[3] = {}) =>
    (await restoreMysql(await treeOf(repo, snap), parseMysqlUrl(MYSQL_URL), driverContext(), opts))
      .databases[0]!

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-patch')
    admin = await adminConnection()
    await admin.query(`
      CREATE DATABASE \`${db}\`;
      USE \`${db}\`;
      CREATE TABLE ${q('items')} (
        id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
        sku VARCHAR(20) NOT NULL UNIQUE,
        qty INT,
        twice INT AS (qty * 2) STORED,
        note TEXT,
        ref UUID,
        KEY by_qty (qty)) ENGINE=InnoDB;
      CREATE TABLE ${q('links')} (a INT, b SMALLINT, v VARCHAR(10), PRIMARY KEY (b, a)) ENGINE=InnoDB;
      CREATE TABLE ${q('audit')} (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(40)) ENGINE=InnoDB;
      CREATE TRIGGER ${q('items_gone')} AFTER DELETE ON ${q('items')}
        FOR EACH ROW INSERT INTO ${q('audit')} (what) VALUES (CONCAT('deleted ', OLD.id));
      INSERT INTO ${q('items')} (sku, qty, note, ref)
        SELECT CONCAT('sku-', seq), seq % 97, IF(seq % 5 = 0, NULL, CONCAT('tab\\there ', seq, '\\n')),
               IF(seq % 3 = 0, NULL, UUID())
        FROM seq_1_to_3000;
      INSERT INTO ${q('links')} SELECT seq % 50, CAST(seq DIV 50 AS SIGNED) - 10, CONCAT('v', seq) FROM seq_1_to_1000;`)
    repo = await createRepo(tmp.path)
    want = await describeDatabase(admin, db)
    snap = (await snapshotDatabases(repo, [db])).snap
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.end()
    await tmp.cleanup()
  })
  beforeEach(async () => {
    // Each case starts from the snapshot (the restore under test puts it back).
    expect(await describeDatabase(admin, db)).toEqual(want)
  })

  it('rewrites only the changed rows: updates, deletes, inserts and a swap of unique values', async () => {
    await admin.query(`
      UPDATE ${q('items')} SET qty = qty + 1000, note = 'edited' WHERE id BETWEEN 100 AND 129;
      DELETE FROM ${q('items')} WHERE id BETWEEN 500 AND 509;
      INSERT INTO ${q('items')} (sku, qty) VALUES ('n1', 1), ('n2', 2), ('n3', 3), ('n4', 4), ('n5', 5);
      UPDATE ${q('items')} SET sku = 'swap' WHERE id = 1000;
      UPDATE ${q('items')} SET sku = 'sku-1000' WHERE id = 1001;
      UPDATE ${q('items')} SET sku = 'sku-1001' WHERE id = 1000;
      UPDATE ${q('links')} SET v = 'changed' WHERE b = -10 AND a IN (1, 2, 3);
      DELETE FROM ${q('links')} WHERE b = 5 AND a = 7;
      INSERT INTO ${q('links')} VALUES (-1, -32768, 'low'), (99, 32767, 'high');`)
    const plan = await restore()
    expect(plan.reload).toEqual([])
    expect([...plan.patch].sort()).toEqual(['audit', 'items', 'links'])
    // items: 30 updated, 10 deleted, 5 inserted, 2 swapped; links: 3, 1, 2; audit: 10 inserted
    // by the trigger.
    expect(plan.patchRows).toBe(30 + 10 + 5 + 2 + 6 + 10)
    // Equal by definition (AUTO_INCREMENT counters included), checksum and row count; the
    // trigger is back and did not fire on the rows written back (audit equals the snapshot).
    expect(await describeDatabase(admin, db)).toEqual(want)
    expect(await sideDatabasesLeft(admin, db)).toEqual([])
  })

  it('diffs a table stored in parts part by part, on several connections', async () => {
    await admin.query(`ANALYZE TABLE ${q('items')}`)
    const writer = await SnapshotWriter.start(repo)
    await captureMysql(parseMysqlUrl(`${MYSQL_URL}/${db}`), writer, driverContext(), {
      partRows: 1000,
    })
    const split = await writer.commit({ paths: ['/services/mysql'], hostname: 'shop' })
    const tree = snapshotTreeReader(await RepoReader.open(repo), split.tree)
    const files = (await tree.list(`services/mysql/${db}`)).map((e) => e.name)
    expect(files.filter((f) => /^items\.\d+\.tsv$/.test(f)).length).toBeGreaterThan(1)
    await admin.query(`
      UPDATE ${q('items')} SET qty = 7 WHERE id IN (10, 1500, 2900);
      DELETE FROM ${q('items')} WHERE id = 2000;
      INSERT INTO ${q('items')} (sku, qty) VALUES ('past the end', 1);`)
    const plan = (
      await restoreMysql(tree, parseMysqlUrl(`${MYSQL_URL}?connections=2`), driverContext())
    ).databases[0]!
    expect(plan.reload).toEqual([])
    expect([...plan.patch].sort()).toEqual(['audit', 'items'])
    expect(plan.patchRows).toBe(3 + 1 + 1 + 1)
    expect(await describeDatabase(admin, db)).toEqual(want)
  })

  it('sets the AUTO_INCREMENT counter back when only it changed', async () => {
    await admin.query(`INSERT INTO ${q('items')} (sku) VALUES ('brief')`)
    await admin.query(`DELETE FROM ${q('items')} WHERE sku = 'brief'`)
    await admin.query(`DELETE FROM ${q('audit')} WHERE what LIKE 'deleted %'`)
    // Both counters moved (the trigger wrote to audit): both are set back, no row rewritten.
    const plan = await restore()
    expect(plan).toMatchObject({ reload: [], patch: ['audit', 'items'], patchRows: 0 })
    expect(await describeDatabase(admin, db)).toEqual(want)
  })

  it('reloads a table whose rows mostly changed, and one when patching is off', async () => {
    await admin.query(`UPDATE ${q('items')} SET qty = -qty WHERE id <= 2000`)
    await admin.query(`UPDATE ${q('links')} SET v = 'x' WHERE a = 1 AND b = 0`)
    const plan = await restore()
    expect(plan.reload).toEqual(['items'])
    expect(plan.patch).toEqual(['links'])
    expect(await describeDatabase(admin, db)).toEqual(want)

    await admin.query(`UPDATE ${q('links')} SET v = 'x' WHERE a = 1 AND b = 0`)
    const off = await restore({ patch: false })
    expect(off).toMatchObject({ reload: ['links'], patch: [], patchRows: 0 })
    expect(await describeDatabase(admin, db)).toEqual(want)
  })

  it('applies a patch again, harmlessly, while its staged tables are still there', async () => {
    // What a journal's replay meets after a kill between the patch's commit and the drop of
    // its staged tables: the same rows written and keys deleted a second time.
    const stage = `${db}__coffer_stage_0badcafe`
    const patch = {
      table: 'links',
      deletes: 'coffer_delete_1',
      keys: ['b', 'a'],
      columns: ['a', 'b', 'v'],
    }
    const stageIt = async (): Promise<void> => {
      await admin.query(`
        CREATE DATABASE IF NOT EXISTS \`${stage}\`;
        CREATE TABLE \`${stage}\`.links LIKE ${q('links')};
        CREATE TABLE \`${stage}\`.coffer_delete_1 (PRIMARY KEY (b, a)) SELECT b, a FROM ${q('links')} LIMIT 0;
        INSERT INTO \`${stage}\`.links SELECT * FROM ${q('links')} WHERE b = 0 AND a < 5;
        INSERT INTO \`${stage}\`.coffer_delete_1 VALUES (-32768, -1);`)
    }
    await admin.query(`
      UPDATE ${q('links')} SET v = 'gone' WHERE b = 0 AND a < 5;
      INSERT INTO ${q('links')} VALUES (-1, -32768, 'extra');`)
    const [saved] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT a, b, v FROM ${q('links')} WHERE b = 0 AND a < 5`,
    )
    expect(saved.every((r) => r.v === 'gone')).toBe(true)
    // Put the snapshot's values in the staged rows by hand (the test's own patch).
    const s = await openSession(parseMysqlUrl(MYSQL_URL))
    try {
      for (let round = 0; round < 2; round++) {
        await stageIt()
        await admin.query(`UPDATE \`${stage}\`.links SET v = CONCAT('v', (b + 10) * 50 + a)`)
        await applyPatches(s, db, stage, [patch], new Set(['links', 'coffer_delete_1']))
        // The staged tables are gone once applied; the rows are the snapshot's.
        const [left] = await admin.query<mysql.RowDataPacket[]>(
          'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
          [stage],
        )
        expect(left).toEqual([])
        expect(await describeDatabase(admin, db)).toEqual(want)
      }
      // Not staged (already applied and dropped): nothing happens.
      await applyPatches(s, db, stage, [patch], new Set())
      expect(await describeDatabase(admin, db)).toEqual(want)
    } finally {
      s.destroy()
      await admin.query(`DROP DATABASE IF EXISTS \`${stage}\``)
    }
  })

  it('changes nothing when the barrier before the switch fails', async () => {
    await admin.query(`UPDATE ${q('links')} SET v = 'y' WHERE a = 2 AND b = 0`)
    const before = await describeDatabase(admin, db)
    await expect(
      restore({
        beforeSwitch: () => Promise.reject(new Error('barrier says no')),
      }),
    ).rejects.toThrow('barrier says no')
    expect(await describeDatabase(admin, db)).toEqual(before)
    expect(await sideDatabasesLeft(admin, db)).toEqual([])
    expect((await restore()).patch).toEqual(['links'])
  })
})
