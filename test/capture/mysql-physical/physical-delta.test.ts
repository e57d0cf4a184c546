import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import type { TreeReader } from '../../../src/capture/index.js'
import { parseMysqlUrl } from '../../../src/capture/mysql/index.js'
import {
  previewPhysicalRestore,
  restorePhysical,
  type PhysicalCaptureResult,
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
  snapshotDatabases,
  treeOf,
} from '../mysql/mysql-harness.js'
import {
  physicalDbName as dbName,
  snapshotPhysical,
  treeText,
  withEditedJson,
} from './physical-harness.js'

// parent/child are joined by a foreign key; notes is MyISAM (stored logically); big is split
// into parts by the logical driver's rule only past 500,000 rows, so one part here.
const FIXTURE = `
CREATE DATABASE {DB};
USE {DB};
CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL) ENGINE=InnoDB;
CREATE TABLE child (
  id INT AUTO_INCREMENT PRIMARY KEY,
  parent_id INT NOT NULL,
  CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id)
) ENGINE=InnoDB;
CREATE TABLE big (id BIGINT PRIMARY KEY, body VARCHAR(100), at DATETIME(3)) ENGINE=InnoDB;
CREATE TABLE nokey (a INT, b TEXT) ENGINE=InnoDB;
CREATE TABLE notes (id INT PRIMARY KEY, body TEXT) ENGINE=MyISAM;
INSERT INTO parent SELECT seq, CONCAT('p', seq) FROM seq_1_to_50;
INSERT INTO child (parent_id) SELECT 1 + seq % 50 FROM seq_1_to_400;
INSERT INTO big SELECT seq, REPEAT('x', seq % 90), '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_20000;
INSERT INTO nokey SELECT seq % 7, NULL FROM seq_1_to_30;
INSERT INTO notes VALUES (1, 'one'), (2, 'two');
CREATE VIEW v_big AS SELECT id FROM big WHERE id < 10;
`

const INNODB = ['big', 'child', 'nokey', 'parent']

describe('mysql physical mode: delta restore', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  let snap: StoredSnapshot
  let captured: PhysicalCaptureResult
  let want: Record<string, string>
  const db = dbName('dsrc')
  const copy = dbName('dcopy')
  const into = { databaseMap: { [db]: copy } }

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-physical-delta')
    admin = await adminConnection()
    await admin.query(FIXTURE.replaceAll('{DB}', `\`${db}\``))
    repo = await createRepo(tmp.path)
    want = await describeDatabase(admin, db)
    ;({ snap, captured } = await snapshotPhysical(repo, db, tmp.path))
  }, 120_000)
  afterAll(async () => {
    for (const d of [db, copy]) await admin.query(`DROP DATABASE IF EXISTS \`${d}\``)
    await admin.end()
    await tmp.cleanup()
  })

  const restore = async (tree?: TreeReader) =>
    (
      await restorePhysical(
        tree ?? (await treeOf(repo, snap)),
        parseMysqlUrl(MYSQL_URL),
        driverContext(),
        into,
      )
    ).databases[0]!

  it('records the logical driver’s content hash of every physical table', async () => {
    const entry = await tablesJson(await treeOf(repo, snap), db)
    expect(entry.tables.map((t) => t.name)).toEqual(INNODB)
    // The same database captured logically records the same hashes: same rows, same hash.
    const logical = await snapshotDatabases(repo, [db])
    const hashes = new Map(logical.result.databases[0]!.tables.map((t) => [t.name, t.sha256]))
    for (const t of entry.tables) {
      expect(t.content?.sha256, t.name).toBe(hashes.get(t.name))
      expect(t.content?.ranges).toEqual([{}])
    }
    expect(captured.tables.map((t) => t.contentSha256)).toEqual(
      captured.tables.map((t) => hashes.get(t.name)),
    )
  })

  it('imports everything into a new database, then keeps what is unchanged', async () => {
    const first = await restore()
    expect(first).toMatchObject({ imported: INNODB, loaded: ['notes'], kept: [] })
    expect(await describeDatabase(admin, copy)).toEqual(want)
    // Restoring again over an equal copy changes no table.
    const ids = await tableIds(admin, copy)
    const again = await restore()
    expect(again).toMatchObject({
      imported: [],
      loaded: [],
      kept: ['big', 'child', 'nokey', 'notes', 'parent'],
    })
    expect(await tableIds(admin, copy)).toEqual(ids)
    expect(await describeDatabase(admin, copy)).toEqual(want)
  })

  it('re-imports only the table that changed', async () => {
    await admin.query(`UPDATE \`${copy}\`.big SET body = 'changed' WHERE id % 100 = 0`)
    await admin.query(`CREATE TABLE \`${copy}\`.extra (id INT PRIMARY KEY)`)
    const ids = await tableIds(admin, copy)
    const [plan] = await previewPhysicalRestore(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
      into,
    )
    expect(plan).toMatchObject({
      reload: ['big'],
      keep: ['child', 'nokey', 'notes', 'parent'],
      drop: ['extra'],
    })
    const r = await restore()
    expect(r).toMatchObject({
      imported: ['big'],
      loaded: [],
      kept: ['child', 'nokey', 'notes', 'parent'],
      dropped: ['extra'],
    })
    expect(await describeDatabase(admin, copy)).toEqual(want)
    const now = await tableIds(admin, copy)
    expect(now.big).not.toBe(ids.big)
    for (const t of ['child', 'nokey', 'parent']) expect(now[t], t).toBe(ids[t])
  })

  it('re-imports the tables joined by a foreign key to a changed one', async () => {
    await admin.query(`UPDATE \`${copy}\`.parent SET name = 'changed' WHERE id = 3`)
    await admin.query(`DELETE FROM \`${copy}\`.notes WHERE id = 2`)
    const r = await restore()
    expect(r).toMatchObject({
      imported: ['child', 'parent'],
      loaded: ['notes'],
      kept: ['big', 'nokey'],
    })
    expect(await describeDatabase(admin, copy)).toEqual(want)
  })

  it('imports everything from a snapshot without content hashes (older entries)', async () => {
    const tree = withoutContent(await treeOf(repo, snap), db)
    expect((await tablesJson(tree, db)).tables.every((t) => t.content === undefined)).toBe(true)
    const r = await restore(tree)
    expect(r).toMatchObject({ imported: INNODB, loaded: ['notes'], kept: [] })
    expect(await describeDatabase(admin, copy)).toEqual(want)
  })
})

/** InnoDB's table id of each table of `db`: a new one whenever a table is replaced. */
async function tableIds(admin: mysql.Connection, db: string): Promise<Record<string, string>> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>(
    'SELECT NAME AS n, TABLE_ID AS id FROM information_schema.INNODB_SYS_TABLES WHERE NAME LIKE ?',
    [`${db}/%`],
  )
  return Object.fromEntries(rows.map((r) => [String(r.n).slice(db.length + 1), String(r.id)]))
}

async function tablesJson(tree: TreeReader, db: string): Promise<PhysicalDatabaseEntry> {
  return JSON.parse(await treeText(tree, `services/mysql/${db}/physical/tables.json`)) as never
}

/** The snapshot's tree with `content` taken out of tables.json, as written before it was. */
function withoutContent(tree: TreeReader, db: string): TreeReader {
  return withEditedJson(tree, `services/mysql/${db}/physical/tables.json`, (entry) => ({
    ...entry,
    tables: (entry.tables as Record<string, unknown>[]).map(({ content: _, ...t }) => t),
  }))
}
