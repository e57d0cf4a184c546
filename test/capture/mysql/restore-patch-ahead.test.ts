import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import { parseMysqlUrl, restoreMysql } from '../../../src/capture/mysql/index.js'
import type { Repository, StoredSnapshot } from '../../../src/repo/index.js'
import type { Logger } from '../../../src/lib/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  describeDatabase,
  driverContext,
  MYSQL_URL,
  sideDatabasesLeft,
  snapshotDatabases,
  testDbName,
  treeOf,
} from './mysql-harness.js'

// Patches are applied ahead of the switch on a connection of their own and only committed
// inside it (docs/MYSQL.md, "Patching a table in place"): until then nobody sees them, the
// rows they rewrite are locked, and tables with triggers are left to the switch.
describe('mysql delta restore: patches applied ahead of the switch', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let other: mysql.Connection
  let repo: Repository
  let snap: StoredSnapshot
  let want: Record<string, string>
  const db = testDbName('ahead')
  const q = (t: string): string => `\`${db}\`.\`${t}\``
  // Where the trigger writes: a database the restore does not touch.
  const logDb = `${db}_log`
  const changes = `\`${logDb}\`.changes`
  const restore = async (opts: Parameters<typeof restoreMysql>[3] = {}, log?: Logger) => {
    const ctx = driverContext()
    return (
      await restoreMysql(
        await treeOf(repo, snap),
        parseMysqlUrl(MYSQL_URL),
        log ? { ...ctx, log } : ctx,
        opts,
      )
    ).databases[0]!
  }
  /** Sets a row of `plain` and `watched` on the other connection, waiting 1 s at most. */
  const write = async (table: 'plain' | 'watched', id: number): Promise<string> => {
    try {
      await other.query(`UPDATE ${q(table)} SET v = 'written meanwhile' WHERE id = ?`, [id])
      return 'written'
    } catch (e) {
      return (e as { code?: string }).code ?? String(e)
    }
  }
  const valueOf = async (table: string, id: number): Promise<unknown> => {
    const [rows] = await other.query<mysql.RowDataPacket[]>(
      `SELECT v FROM ${q(table)} WHERE id = ?`,
      [id],
    )
    return rows[0]?.v
  }

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-ahead')
    admin = await adminConnection()
    other = await adminConnection()
    await other.query('SET SESSION innodb_lock_wait_timeout = 1')
    await admin.query(`
      CREATE DATABASE \`${db}\`;
      USE \`${db}\`;
      CREATE TABLE ${q('plain')} (id INT PRIMARY KEY, v VARCHAR(40), KEY by_v (v)) ENGINE=InnoDB;
      CREATE TABLE ${q('other')} (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB;
      CREATE TABLE ${q('watched')} (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB;
      CREATE DATABASE \`${logDb}\`;
      CREATE TABLE ${changes} (n INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(40)) ENGINE=InnoDB;
      CREATE TRIGGER ${q('watched_set')} AFTER UPDATE ON ${q('watched')}
        FOR EACH ROW INSERT INTO ${changes} (what) VALUES (CONCAT('set ', NEW.id));
      INSERT INTO ${q('plain')} SELECT seq, CONCAT('p', seq) FROM seq_1_to_2000;
      INSERT INTO ${q('other')} SELECT seq, CONCAT('o', seq) FROM seq_1_to_500;
      INSERT INTO ${q('watched')} SELECT seq, CONCAT('w', seq) FROM seq_1_to_2000;`)
    repo = await createRepo(tmp.path)
    want = await describeDatabase(admin, db)
    snap = (await snapshotDatabases(repo, [db])).snap
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.query(`DROP DATABASE IF EXISTS \`${logDb}\``)
    await admin.end()
    await other.end()
    await tmp.cleanup()
  })
  beforeEach(async () => {
    await admin.query(`
      UPDATE ${q('plain')} SET v = 'changed' WHERE id % 100 = 0;
      DELETE FROM ${q('plain')} WHERE id = 7;
      INSERT INTO ${q('plain')} VALUES (5000, 'extra');
      UPDATE ${q('other')} SET v = 'changed' WHERE id = 1;
      INSERT INTO ${q('other')} VALUES (900, 'extra');
      UPDATE ${q('watched')} SET v = 'changed' WHERE id % 100 = 0;
      DELETE FROM ${changes};`)
  })

  it('hides them and locks their rows until the switch; leaves tables with triggers to it', async () => {
    const seen: Record<string, unknown> = {}
    const plan = await restore({
      beforeSwitch: async () => {
        // Applied, not committed: another connection reads the old rows (a row changed, one
        // the snapshot has and one it lacks), and waits for the rows the patch rewrote; the
        // table with a trigger is not touched yet.
        seen.plain = await valueOf('plain', 100)
        seen.deleted = await valueOf('plain', 7)
        seen.extra = await valueOf('plain', 5000)
        // A second table's patch, in the same transaction, as hidden.
        seen.other = [await valueOf('other', 1), await valueOf('other', 900)]
        seen.writePlain = await write('plain', 200)
        seen.writeWatched = await write('watched', 300)
      },
    })
    expect([...plan.patch].sort()).toEqual(['other', 'plain', 'watched'])
    expect(seen).toEqual({
      plain: 'changed',
      deleted: undefined,
      extra: 'extra',
      other: ['changed', 'extra'],
      writePlain: 'ER_LOCK_WAIT_TIMEOUT',
      writeWatched: 'written',
    })
    // The switch overwrote that write; the trigger fired for it, and for none of the rows
    // the patch rewrote.
    expect(await valueOf('watched', 300)).toBe('w300')
    const [fired] = await admin.query<mysql.RowDataPacket[]>(`SELECT what FROM ${changes}`)
    expect(fired.map((r) => String(r.what))).toEqual(['set 300'])
    expect(await describeDatabase(admin, db)).toEqual(want)
    expect(await sideDatabasesLeft(admin, db)).toEqual([])
  })

  it('applies them inside the switch when told not to apply them ahead', async () => {
    const seen: Record<string, unknown> = {}
    await restore({
      patchAhead: false,
      beforeSwitch: async () => {
        seen.writePlain = await write('plain', 200)
      },
    })
    expect(seen).toEqual({ writePlain: 'written' })
    expect(await describeDatabase(admin, db)).toEqual(want)
  })

  it('rolls them back when the barrier fails, and leaves no row locked', async () => {
    const before = await describeDatabase(admin, db)
    await expect(
      restore({ beforeSwitch: () => Promise.reject(new Error('barrier says no')) }),
    ).rejects.toThrow('barrier says no')
    expect(await describeDatabase(admin, db)).toEqual(before)
    expect(await write('plain', 200)).toBe('written')
    expect(await sideDatabasesLeft(admin, db)).toEqual([])
    await restore()
    expect(await describeDatabase(admin, db)).toEqual(want)
  })

  it('loses them with their connection (as a kill would): the switch applies them', async () => {
    const warnings: string[] = []
    const log = {
      ...driverContext().log,
      warn: (_: unknown, msg?: string) => void warnings.push(String(msg)),
    } as Logger
    let killed = 0
    await restore(
      {
        beforeSwitch: async () => {
          // The connection that holds the patches: the one a write to a patched row waits for
          // (other test files' transactions may be running on the server too).
          const waiting = write('plain', 200)
          let holder: mysql.RowDataPacket[] = []
          for (let i = 0; i < 50 && holder.length === 0; i++) {
            ;[holder] = await admin.query<mysql.RowDataPacket[]>(
              `SELECT DISTINCT t.trx_mysql_thread_id AS id
               FROM information_schema.INNODB_LOCK_WAITS w
               JOIN information_schema.INNODB_LOCKS l ON l.lock_id = w.requested_lock_id
               JOIN information_schema.INNODB_TRX t ON t.trx_id = w.blocking_trx_id
               WHERE l.lock_table = ?`,
              [`\`${db}\`.\`plain\``],
            )
            if (holder.length === 0) await new Promise((r) => setTimeout(r, 10))
          }
          expect(holder).toHaveLength(1)
          await admin.query(`KILL CONNECTION ${Number(holder[0]!.id)}`)
          // Killed, its locks go: the waiting write goes through.
          expect(await waiting).toBe('written')
          killed++
          // Rolled back by the server: the rows are free and as they were.
          expect(await valueOf('plain', 100)).toBe('changed')
          expect(await write('plain', 200)).toBe('written')
        },
      },
      log,
    )
    expect(killed).toBe(1)
    expect(warnings).toContain(
      'the patches applied ahead could not be committed: the switch applies them',
    )
    expect(await describeDatabase(admin, db)).toEqual(want)
  })
})
