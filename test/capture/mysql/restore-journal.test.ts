import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import {
  parseMysqlUrl,
  recoverMysqlRestores,
  restoreMysql,
} from '../../../src/capture/mysql/index.js'
import { silentLogger } from '../../../src/lib/index.js'
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

/** Two databases with tables, a view, a trigger, a routine and an event, for one snapshot. */
function fixture(db: string): string {
  return `
    CREATE DATABASE \`${db}\`;
    CREATE TABLE \`${db}\`.orders (id INT PRIMARY KEY, total DECIMAL(10,2));
    INSERT INTO \`${db}\`.orders SELECT seq, seq * 1.5 FROM \`${db}\`.seq_1_to_500;
    CREATE TABLE \`${db}\`.audit (id INT AUTO_INCREMENT PRIMARY KEY, order_id INT);
    CREATE TRIGGER \`${db}\`.orders_audit AFTER INSERT ON \`${db}\`.orders
      FOR EACH ROW INSERT INTO \`${db}\`.audit (order_id) VALUES (NEW.id);
    CREATE VIEW \`${db}\`.big_orders AS SELECT id FROM \`${db}\`.orders WHERE total > 100;
    CREATE FUNCTION \`${db}\`.twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
    CREATE EVENT \`${db}\`.nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM \`${db}\`.audit;
  `
}

/** Changes a restore must undo: rows, the view and the trigger. */
function changes(db: string): string {
  return `
    UPDATE \`${db}\`.orders SET total = 0 WHERE id <= 10;
    DROP VIEW \`${db}\`.big_orders;
    DROP TRIGGER \`${db}\`.orders_audit;
  `
}

// docs/MYSQL.md, "Restore", step 4: once committed, a switch killed half-way is finished
// by recovery, so every target ends as the snapshot — never some new, some old, or new
// tables without their objects. A throw from onPhase stops the run where a kill would
// (the connections are dropped; nothing after the commit is undone).
describe('mysql restore journal', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  let snap: StoredSnapshot
  const dbs = [testDbName('jrnl_a'), testDbName('jrnl_b')] as const
  const want: Record<string, Record<string, string>> = {}

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-journal')
    admin = await adminConnection()
    for (const db of dbs) await admin.query(fixture(db))
    for (const db of dbs) want[db] = await describeDatabase(admin, db)
    repo = await createRepo(tmp.path)
    snap = (await snapshotDatabases(repo, [...dbs])).snap
  })
  afterAll(async () => {
    for (const db of dbs) {
      await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
      for (const s of await sideDatabases(db)) await admin.query(`DROP DATABASE \`${s}\``)
    }
    await admin.end()
    await tmp.cleanup()
  })

  async function sideDatabases(db: string): Promise<string[]> {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      'SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
      [`${db}\\_\\_coffer\\_%`],
    )
    return rows.map((r) => String(r.n))
  }

  async function restoreStoppedAt(phase: string, db: string): Promise<void> {
    const run = restoreMysql(await treeOf(repo, snap), parseMysqlUrl(MYSQL_URL), driverContext(), {
      onPhase: (p, name) => {
        if (p === phase && name === db) throw new Error(`killed at ${phase} of ${db}`)
      },
    })
    await expect(run).rejects.toThrow(`killed at ${phase} of ${db}`)
  }

  const cases = [
    {
      when: 'after the first database is switched, before the second',
      phase: 'switch',
      db: dbs[1],
    },
    {
      when: "after the first database's RENAME, before its objects",
      phase: 'objects',
      db: dbs[0],
    },
    {
      when: "after the second database's RENAME, before its objects",
      phase: 'objects',
      db: dbs[1],
    },
  ]

  it.each(cases)('finishes a restore stopped $when', async ({ phase, db }) => {
    for (const d of dbs) await admin.query(changes(d))
    await restoreStoppedAt(phase, db)
    // Stopped past the point of no return: half-switched, the journal left behind.
    const half = await Promise.all(dbs.map((d) => describeDatabase(admin, d)))
    expect(half.every((h, i) => JSON.stringify(h) === JSON.stringify(want[dbs[i]!]))).toBe(false)
    expect(await sideDatabases(dbs[0])).toEqual(
      expect.arrayContaining([expect.stringMatching(/__coffer_jrnl_[0-9a-f]{8}$/)]),
    )

    const finished = await recoverMysqlRestores(parseMysqlUrl(MYSQL_URL), silentLogger)
    expect([...finished].sort()).toEqual([...dbs].sort())
    for (const d of dbs) {
      expect(await describeDatabase(admin, d)).toEqual(want[d])
      expect(await sideDatabases(d)).toEqual([])
    }
  })

  it('is finished by the next restore into the other database alone', async () => {
    for (const d of dbs) await admin.query(changes(d))
    await restoreStoppedAt('objects', dbs[0])
    // A restore of the second database only: it first finishes the interrupted one (both
    // databases), then restores its own (nothing left to change).
    const r = await restoreMysql(
      await treeOf(repo, snap),
      parseMysqlUrl(MYSQL_URL),
      driverContext(),
      { include: [dbs[1]] },
    )
    expect(r.databases.map((d) => d.database)).toEqual([dbs[1]])
    for (const d of dbs) {
      expect(await describeDatabase(admin, d)).toEqual(want[d])
      expect(await sideDatabases(d)).toEqual([])
    }
  })

  it('is not finished when stopped before the commit: nothing changed, nothing left', async () => {
    for (const d of dbs) await admin.query(changes(d))
    const before = await Promise.all(dbs.map((d) => describeDatabase(admin, d)))
    await restoreStoppedAt('switch', dbs[0])
    expect(await recoverMysqlRestores(parseMysqlUrl(MYSQL_URL), silentLogger)).toEqual([])
    expect(await Promise.all(dbs.map((d) => describeDatabase(admin, d)))).toEqual(before)
    for (const d of dbs) expect(await sideDatabases(d)).toEqual([])
  })
})
