import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import { runCofferUntilKilled, sideDatabasesOf as sideOf } from '../../helpers/kill-restore.js'
import { runCoffer } from '../../helpers/run-coffer.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import { adminConnection, describeDatabase, MYSQL_URL, testDbName } from './mysql-harness.js'

const env = { ...process.env, COFFER_PASSWORD: 'kill-tests', COFFER_REPOSITORY: '' }

describe('kill -9 of `coffer repo:restore --mysql` before the switch', { timeout: 600_000 }, () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: string
  const db = testDbName('kill')
  const restoreArgs = (): string[] => [
    'repo:restore',
    'latest',
    '--repo',
    repo,
    '--mysql',
    `${MYSQL_URL}/${db}`,
  ]

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-kill')
    repo = join(tmp.path, 'repo')
    admin = await adminConnection()
    // Enough rows that the load lasts long enough to be caught in the middle.
    await admin.query(
      `CREATE DATABASE \`${db}\`;
       USE \`${db}\`;
       CREATE TABLE \`${db}\`.big (id INT PRIMARY KEY, body VARCHAR(200), KEY (body(20)));
       INSERT INTO \`${db}\`.big SELECT seq, REPEAT(CHAR(65 + seq % 26), 150) FROM seq_1_to_300000;
       CREATE TABLE \`${db}\`.small (id INT PRIMARY KEY, v INT);
       INSERT INTO \`${db}\`.small SELECT seq, seq FROM seq_1_to_100;
       CREATE VIEW \`${db}\`.v_small AS SELECT id FROM \`${db}\`.small;`,
    )
    for (const args of [
      ['repo:init', '--repo', repo, '--kdf', '16384,8,1'],
      ['repo:backup', '--repo', repo, '--mysql', `${MYSQL_URL}/${db}`],
    ]) {
      const r = await runCoffer(args, { env })
      expect(r.code, r.stderr).toBe(0)
    }
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    for (const s of await sideOf(admin, db)) await admin.query(`DROP DATABASE \`${s}\``)
    await admin.end()
    await tmp.cleanup()
  })

  // Where to kill: on a phase line on stderr, or as soon as a staging database exists.
  const cases = [
    { when: 'the stage phase starts', phase: 'stage' },
    { when: 'the staging database appears', phase: undefined },
    { when: 'the load phase starts', phase: 'load' },
  ] as const

  it.each(cases)('leaves the target exactly as it was when killed as $when', async (c) => {
    // The target differs from the snapshot, so that a restore has something to switch.
    await admin.query(`UPDATE \`${db}\`.big SET body = 'changed' WHERE id % 1000 = 0`)
    await admin.query(`DELETE FROM \`${db}\`.small WHERE id > 90`)
    const before = await describeDatabase(admin, db)
    // Staging left by an earlier kill does not count: wait for this run's own.
    const leftover = await sideOf(admin, db)
    const { signal, stderr } = await runCofferUntilKilled(
      restoreArgs(),
      env,
      c.phase
        ? { phase: c.phase }
        : { when: async () => (await sideOf(admin, db)).some((n) => !leftover.includes(n)) },
    )
    expect(signal, `the restore ended before the kill: ${stderr}`).toBe('SIGKILL')
    expect(stderr).not.toMatch(/: switch\n/)
    // The server drops the killed process's connections; the target is as it was.
    expect(await describeDatabase(admin, db)).toEqual(before)
  })

  it('the next restore drops the staging databases left behind and succeeds', async () => {
    const want = await describeDatabase(admin, db)
    const r = await runCoffer(restoreArgs(), { env })
    expect(r.code, r.stderr).toBe(0)
    expect(await sideOf(admin, db)).toEqual([])
    const got = await describeDatabase(admin, db)
    expect(got).not.toEqual(want)
    const [[n]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM \`${db}\`.big WHERE body = 'changed'`,
    )
    expect(Number(n?.n)).toBe(0)
    const [[m]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM \`${db}\`.small`,
    )
    expect(Number(m?.n)).toBe(100)
  })
})
