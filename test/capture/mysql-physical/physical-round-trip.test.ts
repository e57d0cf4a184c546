import { readdir } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import type { TreeReader } from '../../../src/capture/index.js'
import { parseMysqlUrl, RESTORE_PHASES, restoreMysql } from '../../../src/capture/mysql/index.js'
import {
  restorePhysical,
  type PhysicalCaptureResult,
} from '../../../src/capture/mysql/physical/index.js'
import { RefusedError } from '../../../src/errors.js'
import type { Repository, StoredSnapshot } from '../../../src/repo/index.js'
import { sideDatabasesOf as sideDatabases } from '../../helpers/kill-restore.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  describeDatabase,
  driverContext,
  MYSQL_URL,
  treeOf,
} from '../mysql/mysql-harness.js'
import {
  physicalDbName as dbName,
  snapshotPhysical,
  treeText as text,
  withEditedJson,
} from './physical-harness.js'

const FIXTURE = `
CREATE DATABASE {DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE {DB};
CREATE TABLE customer (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(80) NOT NULL,
  born DATE NULL,
  KEY by_name (name)
) ENGINE=InnoDB;
CREATE TABLE orders (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id INT UNSIGNED NOT NULL,
  total DECIMAL(12,2) NOT NULL,
  doc JSON NULL,
  photo BLOB NULL,
  CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customer (id) ON DELETE CASCADE,
  KEY by_total (total)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;
CREATE TABLE audit (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  what VARCHAR(40) NOT NULL
) ENGINE=InnoDB;
CREATE TABLE compact_rows (k INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB ROW_FORMAT=COMPACT;
CREATE TABLE counters (name VARCHAR(20) PRIMARY KEY, n INT NOT NULL) ENGINE=MyISAM;
INSERT INTO customer (name, born)
  SELECT CONCAT(ELT(1 + seq % 4, 'Jörg ', 'Zoë ', 'Łukasz ', '李 '), seq), '1990-01-01' + INTERVAL seq DAY
  FROM seq_1_to_3000;
INSERT INTO orders (customer_id, total, doc, photo)
  SELECT 1 + seq % 3000, seq * 1.25, JSON_OBJECT('n', seq), RANDOM_BYTES(64) FROM seq_1_to_9000;
INSERT INTO compact_rows SELECT seq, HEX(seq) FROM seq_1_to_500;
INSERT INTO counters VALUES ('a', 1), ('b', 2), ('ü', 3);
CREATE TRIGGER order_audit AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit (what) VALUES (CONCAT('order ', NEW.id));
INSERT INTO orders (customer_id, total) VALUES (1, 9.99), (2, 19.99);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
CREATE PROCEDURE count_orders(OUT n INT) SELECT COUNT(*) INTO n FROM orders;
`

describe('mysql physical mode', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  let snap: StoredSnapshot
  let captured: PhysicalCaptureResult
  let want: Record<string, string>
  const db = dbName('src')
  const copy = dbName('copy')

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-physical')
    admin = await adminConnection()
    await admin.query(FIXTURE.replaceAll('{DB}', db))
    repo = await createRepo(tmp.path)
    want = await describeDatabase(admin, db)
    ;({ snap, captured } = await snapshotPhysical(repo, db, tmp.path))
  }, 120_000)
  afterAll(async () => {
    for (const d of [db, copy]) await admin.query(`DROP DATABASE IF EXISTS \`${d}\``)
    await admin.end()
    await tmp.cleanup()
  })

  it('stores InnoDB tables as tablespace files and the MyISAM table logically', async () => {
    expect([...captured.physical].sort()).toEqual(
      ['audit', 'compact_rows', 'customer', 'orders'].map((t) => `${db}.${t}`),
    )
    expect(captured.logical).toEqual([`${db}.counters`])
    const tree = await treeOf(repo, snap)
    const names = (await tree.list(`services/mysql/${db}/physical`)).map((e) => e.name).sort()
    expect(names).toEqual([
      'audit.cfg',
      'audit.ibd',
      'compact_rows.cfg',
      'compact_rows.ibd',
      'customer.cfg',
      'customer.ibd',
      'orders.cfg',
      'orders.ibd',
      'tables.json',
    ])
    const service = JSON.parse(await text(tree, 'services/mysql/physical.json')) as {
      serverVersion: string
      innodbPageSize: number
    }
    const [[facts]] = await admin.query<mysql.RowDataPacket[]>(
      'SELECT VERSION() AS v, @@innodb_page_size AS p',
    )
    expect(service).toMatchObject({
      serverVersion: String(facts?.v),
      innodbPageSize: Number(facts?.p),
    })
  })

  it('restores into a new database equal by CHECKSUM TABLE and SHOW CREATE, triggers not fired', async () => {
    const result = await restorePhysical(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
      { databaseMap: { [db]: copy } },
    )
    expect(result.databases[0]).toMatchObject({
      target: copy,
      imported: ['audit', 'compact_rows', 'customer', 'orders'],
      loaded: ['counters'],
    })
    expect(await describeDatabase(admin, copy)).toEqual(want)
    // The trigger exists again but fired for none of the imported rows: audit holds the two
    // rows it had.
    const [[n]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM \`${copy}\`.audit`,
    )
    expect(Number(n?.n)).toBe(2)
    // Imported tables take writes, and number them as the source does.
    const ids: number[] = []
    for (const d of [copy, db]) {
      await admin.query(`INSERT INTO \`${d}\`.orders (customer_id, total) VALUES (3, 1)`)
      const [[last]] = await admin.query<mysql.RowDataPacket[]>(
        `SELECT MAX(id) AS id FROM \`${d}\`.orders`,
      )
      ids.push(Number(last?.id))
    }
    expect(ids[0]).toBe(ids[1])
    await expect(sideDatabases(admin, copy)).resolves.toEqual([])
  })

  it.each(RESTORE_PHASES.slice(0, 4))(
    'an abort at the start of phase %s leaves the target exactly as it was',
    async (phase) => {
      await admin.query(`UPDATE \`${db}\`.customer SET name = 'changed' WHERE id = 1`)
      await admin.query(`DELETE FROM \`${db}\`.counters WHERE name = 'a'`)
      const before = await describeDatabase(admin, db)
      const abort = new AbortController()
      const run = restorePhysical(
        await treeOf(repo, snap),
        parseMysqlUrl(MYSQL_URL),
        driverContext(abort.signal),
        {
          onPhase: (p) => {
            if (p === phase) abort.abort(new Error(`stopped at ${phase}`))
          },
        },
      )
      await expect(run).rejects.toThrow(`stopped at ${phase}`)
      expect(await describeDatabase(admin, db)).toEqual(before)
      await expect(sideDatabases(admin, db)).resolves.toEqual([])
      const [[dir]] = await admin.query<mysql.RowDataPacket[]>('SELECT @@datadir AS d')
      const left = (await readdir(String(dir?.d))).filter((n) => n.startsWith(`${db}__coffer`))
      expect(left).toEqual([])
    },
  )

  it('restores in place over a changed database', async () => {
    await admin.query(`UPDATE \`${db}\`.orders SET total = 0 WHERE id < 100`)
    await admin.query(`CREATE TABLE \`${db}\`.extra (id INT PRIMARY KEY)`)
    await admin.query(`DROP VIEW \`${db}\`.big_orders`)
    const result = await restorePhysical(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
    )
    expect(result.databases[0]?.dropped).toEqual(['extra'])
    expect(await describeDatabase(admin, db)).toEqual(want)
  })

  it('is refused by the logical restore, which would drop its tablespace tables', async () => {
    const before = await describeDatabase(admin, db)
    const run = restoreMysql(await treeOf(repo, snap), parseMysqlUrl(MYSQL_URL), driverContext())
    await expect(run).rejects.toThrow(
      'The service mysql in this snapshot was captured physically: restore it in physical mode; nothing was changed.',
    )
    expect(await describeDatabase(admin, db)).toEqual(before)
  })

  // Another page size or series falls back to a private server of this host's mariadbd
  // (physical-fallback.slow.test.ts): refused when that binary is of another series (the
  // host's is 10.11) or absent.
  it.each([
    ['server version', { serverVersion: '10.6.21-MariaDB' }, {}],
    ['server flavour', { serverVersion: '10.11.19' }, {}],
    ['InnoDB page size', { innodbPageSize: 65536 }, { mariadbd: '/nonexistent/mariadbd' }],
  ])('refuses a snapshot of another %s and changes nothing', async (_what, edit, opts) => {
    const before = await describeDatabase(admin, db)
    const tree = editedEntry(await treeOf(repo, snap), edit)
    const run = restorePhysical(tree, parseMysqlUrl(MYSQL_URL), driverContext(), opts)
    await expect(run).rejects.toBeInstanceOf(RefusedError)
    expect(await describeDatabase(admin, db)).toEqual(before)
    await expect(sideDatabases(admin, db)).resolves.toEqual([])
  })
})

/** The snapshot's tree with `physical.json` edited, as a copy whose entry was changed. */
function editedEntry(tree: TreeReader, edit: Record<string, unknown>): TreeReader {
  return withEditedJson(tree, 'services/mysql/physical.json', (entry) => ({ ...entry, ...edit }))
}
