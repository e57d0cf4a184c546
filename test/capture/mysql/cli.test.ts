import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import { join } from 'node:path'
import { restic } from '../../helpers/restic.js'
import { runCoffer, type CofferRun } from '../../helpers/run-coffer.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import { adminConnection, describeDatabase, testDbName } from './mysql-harness.js'

const PASSWORD = 'Pw-of-the-url-7q'
const USER = 'ct_my_cli'

// Each command is a child process compiling the CLI from source: minutes on a loaded machine.
describe('coffer repo:backup / repo:restore --mysql', { timeout: 240_000 }, () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: string
  const db = testDbName('cli')
  const copy = `${db}_copy`
  const url = (path = ''): string => `mysql://${USER}:${PASSWORD}@127.0.0.1:3306/${path}`
  const env = { COFFER_PASSWORD: 'cli-tests', COFFER_REPOSITORY: '' }
  const coffer = async (args: string[]): Promise<CofferRun> => {
    const r = await runCoffer([...args, '--repo', repo], { env })
    // The URL's password never reaches the operator's screen or logs.
    expect(r.stdout + r.stderr).not.toContain(PASSWORD)
    return r
  }

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-cli')
    repo = join(tmp.path, 'repo')
    admin = await adminConnection()
    await admin.query(
      `CREATE DATABASE \`${db}\`;
       CREATE TABLE \`${db}\`.orders (id INT PRIMARY KEY, total DECIMAL(10,2), note TEXT);
       INSERT INTO \`${db}\`.orders VALUES (1, 9.50, 'first'), (2, 0.01, NULL), (3, 100, '');
       CREATE TABLE \`${db}\`.tags (name VARCHAR(20));
       INSERT INTO \`${db}\`.tags VALUES ('a'), ('b');
       CREATE OR REPLACE USER '${USER}'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}';
       GRANT ALL ON \`ct\\_my\\_cli\\_%\`.* TO '${USER}'@'127.0.0.1';
       GRANT RELOAD ON *.* TO '${USER}'@'127.0.0.1';`,
    )
    const init = await runCoffer(['repo:init', '--repo', repo, '--kdf', '16384,8,1'], { env })
    expect(init.code, init.stderr).toBe(0)
  })
  afterAll(async () => {
    for (const d of [db, copy]) await admin.query(`DROP DATABASE IF EXISTS \`${d}\``)
    await admin.query(`DROP USER IF EXISTS '${USER}'@'127.0.0.1'`)
    await admin.end()
    await tmp.cleanup()
  })

  it('backs up a database with no path, reporting the lock, and restores it under another name', async () => {
    const backup = await coffer(['repo:backup', '--mysql', url(db)])
    expect(backup.code, backup.stderr).toBe(0)
    expect(backup.stdout).toMatch(/MySQL mysql: 1 databases, 2 tables, 5 rows/)
    expect(backup.stdout).toMatch(/global read lock held [\d.]+ ms/)
    expect(backup.stdout).toMatch(/snapshot [0-9a-f]{8} saved/)

    const json = await coffer(['repo:backup', '--json', '--mysql', `${url(db)}?service=shop`])
    expect(json.code, json.stderr).toBe(0)
    const summary = JSON.parse(json.stdout) as {
      snapshot_id: string
      services: { service: string; mode: string; lock_ms: number; rows: number }[]
    }
    expect(summary.services).toEqual([
      expect.objectContaining({ service: 'shop', mode: 'consistent', rows: 5 }),
    ])
    expect(summary.services[0]!.lock_ms).toBeGreaterThanOrEqual(0)

    const ls = await coffer(['repo:ls', 'latest'])
    expect(ls.stdout).toContain(`/services/shop/${db}/orders.0001.tsv`)
    const snapshots = await restic(repo, env.COFFER_PASSWORD, ['snapshots', '--json'])
    expect(snapshots.code, snapshots.stderr).toBe(0)
    expect(snapshots.stdout).toContain('/services/shop')
    expect(snapshots.stdout).not.toContain(PASSWORD)
    const meta = await restic(repo, env.COFFER_PASSWORD, [
      'dump',
      summary.snapshot_id,
      '/services/shop/service.json',
    ])
    expect(meta.stdout).toContain(`mysql://${USER}@127.0.0.1:3306`)
    expect(meta.stdout).not.toContain(PASSWORD)

    const restore = await coffer([
      'repo:restore',
      'latest',
      '--mysql',
      `${url()}?service=shop`,
      '--database-map',
      `${db}=${copy}`,
    ])
    expect(restore.code, restore.stderr).toBe(0)
    expect(restore.stdout).toMatch(new RegExp(`${db} -> ${copy}: reloaded 2 tables \\(5 rows`))
    expect(await describeDatabase(admin, copy)).toEqual(await describeDatabase(admin, db))
  })

  it('restores one table with --include and keeps what already matches', async () => {
    await admin.query(`UPDATE \`${copy}\`.orders SET note = 'changed'`)
    await admin.query(`DELETE FROM \`${copy}\`.tags`)
    const r = await coffer([
      'repo:restore',
      'latest',
      '--json',
      '--mysql',
      `${url()}?service=shop`,
      '--include',
      `/services/shop/${db}/orders`,
      '--database-map',
      `${db}=${copy}`,
    ])
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as {
      services: {
        databases: {
          reloaded: string[]
          patched: string[]
          patched_rows: number
          kept: string[]
          kept_unread: string[]
        }[]
      }[]
    }
    // Same definition, other rows: patched in place, every row of it rewritten.
    const [[all]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM \`${db}\`.orders`,
    )
    expect(out.services[0]!.databases[0]).toMatchObject({
      reloaded: [],
      patched: ['orders'],
      patched_rows: Number(all?.n),
    })
    // The copy's tables are new to the server since the snapshot: none is vouched for.
    expect(out.services[0]!.databases[0]!.kept_unread).toEqual([])
    const [[n]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM \`${copy}\`.tags`,
    )
    expect(Number(n?.n)).toBe(0)
    const [[o]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM \`${copy}\`.orders WHERE note = 'changed'`,
    )
    expect(Number(o?.n)).toBe(0)
  })

  it('fails clearly without the password in the message when the login is refused', async () => {
    const r = await coffer([
      'repo:backup',
      '--mysql',
      `mysql://${USER}:${PASSWORD}x@127.0.0.1:3306/${db}`,
    ])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/Cannot connect to mysql:\/\/ct_my_cli@127\.0\.0\.1:3306/)
    expect(r.stderr).not.toContain(`${PASSWORD}x`)
  })
})
