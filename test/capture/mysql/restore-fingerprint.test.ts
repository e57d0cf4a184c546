import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import { parseMysqlUrl, restoreMysql } from '../../../src/capture/mysql/index.js'
import { parseDatabaseEntry } from '../../../src/capture/mysql/database-entry.js'
import type { Repository, StoredSnapshot } from '../../../src/repo/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  describeDatabase,
  driverContext,
  MYSQL_URL,
  nextSecond,
  serverSecond,
  snapshotDatabases,
  testDbName,
  treeOf,
} from './mysql-harness.js'

/**
 * Delta restores skip reading the tables the server vouched for at the snapshot point
 * (src/capture/mysql/table-fingerprint.ts) while they keep their fingerprint, and read
 * every table whose fingerprint changed or was never vouched for — the result always
 * equals the snapshot.
 */
describe('mysql delta restore by table fingerprints', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let other: mysql.Connection
  let repo: Repository
  let snap: StoredSnapshot
  let want: Record<string, string>
  const db = testDbName('fprint')
  const restore = async () =>
    (await restoreMysql(await treeOf(repo, snap), parseMysqlUrl(MYSQL_URL), driverContext()))
      .databases[0]!

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-fprint')
    admin = await adminConnection()
    other = await adminConnection()
    await admin.query(`CREATE DATABASE \`${db}\`; USE \`${db}\`;
      CREATE TABLE \`${db}\`.big (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB;
      CREATE TABLE \`${db}\`.small (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
      CREATE TABLE \`${db}\`.twin (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
      CREATE TABLE \`${db}\`.raced (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
      CREATE TABLE \`${db}\`.untouched (id INT PRIMARY KEY) ENGINE=InnoDB;
      CREATE TABLE \`${db}\`.plain (id INT PRIMARY KEY) ENGINE=Aria;
      INSERT INTO \`${db}\`.big SELECT seq, CONCAT('row ', seq) FROM seq_1_to_20000;
      INSERT INTO \`${db}\`.small VALUES (1, 1), (2, 2);
      INSERT INTO \`${db}\`.twin VALUES (1, 5), (2, 6);
      INSERT INTO \`${db}\`.raced VALUES (1, 1), (2, 2);
      INSERT INTO \`${db}\`.plain VALUES (1);`)
    repo = await createRepo(tmp.path)
    // The race below happens in a later second than these changes.
    await nextSecond(admin)
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.end()
    await other.end()
    await tmp.cleanup()
  })

  it('records a fingerprint for the InnoDB tables changed before the snapshot second', async () => {
    // `raced`: a transaction that started in the second of the table's last change is still
    // open at the snapshot point; its commit would set the same UPDATE_TIME again.
    for (;;) {
      await other.query('BEGIN')
      await other.query(`UPDATE \`${db}\`.raced SET v = v + 10 WHERE id = 1`)
      await admin.query(`UPDATE \`${db}\`.raced SET v = v + 1 WHERE id = 2`)
      const [[r]] = await admin.query<mysql.RowDataPacket[]>(
        `SELECT (SELECT UNIX_TIMESTAMP(UPDATE_TIME) FROM information_schema.TABLES
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'raced') AS changed,
                (SELECT MAX(UNIX_TIMESTAMP(trx_started)) FROM information_schema.INNODB_TRX
                 WHERE trx_mysql_thread_id = ?) AS open`,
        [db, other.threadId],
      )
      if (Number(r!.changed) === Number(r!.open)) break
      await other.query('ROLLBACK')
    }
    await nextSecond(admin)
    want = await describeDatabase(admin, db)
    snap = (await snapshotDatabases(repo, [db])).snap
    const chunks: Uint8Array[] = []
    for await (const b of (await treeOf(repo, snap)).readFile(`services/mysql/${db}/database.json`))
      chunks.push(b)
    const entry = parseDatabaseEntry('database.json', Buffer.concat(chunks).toString('utf8'))
    const vouched = Object.fromEntries(entry.tables.map((t) => [t.name, t.unchangedSince]))
    const [[id]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT @@server_id AS id, @@hostname AS host, @@port AS port,
              UNIX_TIMESTAMP() - VARIABLE_VALUE AS boot
       FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'`,
    )
    const [[big]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT TABLE_ID AS tableId FROM information_schema.INNODB_SYS_TABLES WHERE NAME = ?`,
      [`${db}/big`],
    )
    expect(vouched.big?.tableId).toBe(Number(big!.tableId))
    for (const name of ['big', 'small', 'twin']) {
      expect(vouched[name]?.server, name).toBe(`${id!.id}@${id!.host}:${id!.port}`)
      expect(Math.abs(vouched[name]!.bootTime - Number(id!.boot)), name).toBeLessThanOrEqual(1)
      expect(vouched[name]?.updateTime, name).toBeLessThan(await serverSecond(admin))
    }
    // Never changed since it was created (UPDATE_TIME NULL), another engine, the race.
    expect(vouched.untouched).toBeUndefined()
    expect(vouched.plain).toBeUndefined()
    expect(vouched.raced).toBeUndefined()
  })

  it('keeps vouched tables without reading them and reloads what changed since', async () => {
    // The open transaction commits now, with the UPDATE_TIME `raced` had at the snapshot.
    await other.query('COMMIT')
    await admin.query(`UPDATE \`${db}\`.small SET v = 99 WHERE id = 1`)
    const plan = await restore()
    // Rewritten, whole or row by row: not kept.
    expect([...plan.reload, ...plan.patch].sort()).toEqual(['raced', 'small'])
    expect(plan.unread).toEqual(['big', 'twin'])
    expect(await describeDatabase(admin, db)).toEqual(want)
  })

  it('reads a table again after TRUNCATE or a RENAME swap', async () => {
    // TRUNCATE leaves UPDATE_TIME as it was, but the table gets a new ID.
    await admin.query(`TRUNCATE \`${db}\`.big;
      RENAME TABLE \`${db}\`.twin TO \`${db}\`.tmp_swap, \`${db}\`.small TO \`${db}\`.twin,
                   \`${db}\`.tmp_swap TO \`${db}\`.small;`)
    const plan = await restore()
    expect([...plan.reload, ...plan.patch].sort()).toEqual(['big', 'small', 'twin'])
    expect(plan.unread).toEqual([])
    expect(await describeDatabase(admin, db)).toEqual(want)
  })

  it('compares the definition of a vouched table (an instant ALTER keeps its fingerprint)', async () => {
    // The restores above reloaded every vouched table; a fresh snapshot vouches again.
    await nextSecond(admin)
    snap = (await snapshotDatabases(repo, [db])).snap
    want = await describeDatabase(admin, db)
    await admin.query(`ALTER TABLE \`${db}\`.big ADD COLUMN extra INT NULL, ALGORITHM=INSTANT`)
    const plan = await restore()
    expect(plan.reload).toContain('big')
    expect(plan.unread).not.toContain('big')
    expect(plan.unread.length).toBeGreaterThan(0)
    expect(await describeDatabase(admin, db)).toEqual(want)
  })
})
