import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import {
  runCofferUntilKilled,
  sideDatabasesOf,
  type KillPoint,
} from '../../helpers/kill-restore.js'
import { runCoffer } from '../../helpers/run-coffer.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  describeDatabase,
  MYSQL_URL,
  REPO_PASSWORD,
} from '../mysql/mysql-harness.js'
import { physicalDbName, snapshotPhysical } from './physical-harness.js'

const env = { ...process.env, COFFER_PASSWORD: REPO_PASSWORD, COFFER_REPOSITORY: '' }

describe('kill -9 of a physical `coffer repo:restore --mysql`', { timeout: 600_000 }, () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let datadir: string
  let want: Record<string, string>
  const db = physicalDbName('kill')
  const restoreArgs = (): string[] => [
    'repo:restore',
    'latest',
    '--repo',
    join(tmp.path, 'repo'),
    '--mysql',
    `${MYSQL_URL}/${db}`,
  ]

  /** Files in the data directory's side-database directories of `db` (staging, trash). */
  const sideFiles = async (): Promise<string[]> => {
    const dirs = (await readdir(datadir)).filter((n) => n.startsWith(`${db}__coffer_`))
    const out: string[] = []
    for (const d of dirs)
      for (const f of await readdir(join(datadir, d)).catch(() => [])) out.push(`${d}/${f}`)
    return out
  }

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-physical-kill')
    admin = await adminConnection()
    const [[dir]] = await admin.query<mysql.RowDataPacket[]>('SELECT @@datadir AS d')
    datadir = String(dir?.d)
    // Tablespaces large enough that writing and importing them lasts, and a MyISAM table,
    // stored logically, whose LOAD DATA comes after every import: the last step before the
    // switch.
    await admin.query(
      `CREATE DATABASE \`${db}\`;
       USE \`${db}\`;
       CREATE TABLE big (id INT PRIMARY KEY, body VARCHAR(200), KEY (body(20))) ENGINE=InnoDB;
       INSERT INTO big SELECT seq, REPEAT(CHAR(65 + seq % 26), 150) FROM seq_1_to_300000;
       CREATE TABLE small (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
       INSERT INTO small SELECT seq, seq FROM seq_1_to_100;
       CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(200)) ENGINE=MyISAM;
       INSERT INTO notes SELECT seq, REPEAT('n', 150) FROM seq_1_to_200000;
       CREATE VIEW v_small AS SELECT id FROM small;`,
    )
    want = await describeDatabase(admin, db)
    await snapshotPhysical(await createRepo(tmp.path), db, tmp.path)
  }, 300_000)
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    for (const s of await sideDatabasesOf(admin, db))
      await admin.query(`DROP DATABASE \`${s}\``).catch(() => undefined)
    await admin.end()
    await tmp.cleanup()
  })

  /**
   * Waits until the killed restore's connection has let go of the restore lock: a statement
   * it had sent (an IMPORT) runs to its end first, as the server notices the lost client
   * only then.
   */
  const lockFreed = async (): Promise<void> => {
    for (;;) {
      const [[r]] = await admin.query<mysql.RowDataPacket[]>('SELECT IS_USED_LOCK(?) AS id', [
        `coffer_restore:${db}`,
      ])
      if (r?.id === null) return
      await new Promise((res) => setTimeout(res, 50))
    }
  }

  const cases: { when: string; point: () => KillPoint }[] = [
    { when: 'the stage phase starts', point: () => ({ phase: 'stage' }) },
    { when: 'the tablespace writes start (load phase)', point: () => ({ phase: 'load' }) },
    {
      when: 'every tablespace is imported and the logical tables load, just before the switch',
      point: () => ({
        when: async () => {
          const [[r]] = await admin.query<mysql.RowDataPacket[]>(
            `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
             WHERE INFO LIKE 'LOAD DATA%' AND INFO LIKE ?`,
            [`%${db}__coffer_stage_%`],
          )
          return Number(r?.n) > 0
        },
      }),
    },
    // Last, so that the final restore below finds what it leaves: a staging database whose
    // directory may hold a written tablespace the server does not know.
    {
      when: 'a tablespace is written and being imported',
      point: () => ({
        when: async () => (await sideFiles()).some((f) => f.endsWith('.cfg')),
      }),
    },
  ]

  it.each(cases)('leaves the target exactly as it was when killed as $when', async (c) => {
    // The target differs from the snapshot in a tablespace table and in the logical one, so
    // that the restore imports and loads (tables equal to the snapshot are kept).
    await admin.query(`UPDATE \`${db}\`.big SET body = 'changed' WHERE id % 1000 = 0`)
    await admin.query(`DELETE FROM \`${db}\`.notes WHERE id % 1000 = 0`)
    const before = await describeDatabase(admin, db)
    const { signal, stderr } = await runCofferUntilKilled(restoreArgs(), env, c.point())
    expect(signal, `the restore ended before the kill: ${stderr}`).toBe('SIGKILL')
    expect(stderr).not.toMatch(/: switch\n/)
    await lockFreed()
    expect(await describeDatabase(admin, db)).toEqual(before)
  })

  it('the next restore removes what the killed ones left and succeeds', async () => {
    // The last kill left its staging database, with tablespace files in its directory.
    expect(await sideDatabasesOf(admin, db)).not.toEqual([])
    expect((await sideFiles()).filter((f) => /\.(ibd|cfg)$/.test(f))).not.toEqual([])
    const r = await runCoffer(restoreArgs(), { env })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/imported 1 tablespaces, loaded 1 tables .*kept 1, dropped 0/)
    expect(await sideDatabasesOf(admin, db)).toEqual([])
    expect(await sideFiles()).toEqual([])
    expect((await readdir(datadir)).filter((n) => n.startsWith(`${db}__coffer`))).toEqual([])
    expect(await describeDatabase(admin, db)).toEqual(want)
  })
})
