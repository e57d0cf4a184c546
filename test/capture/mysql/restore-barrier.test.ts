import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import { parseMysqlUrl, restoreMysql } from '../../../src/capture/mysql/index.js'
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

/** The staging databases of `db` that exist now. */
async function stagingOf(admin: mysql.Connection, db: string): Promise<string[]> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>(
    'SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
    [`${db.replaceAll('_', '\\_')}\\_\\_coffer\\_stage\\_%`],
  )
  return rows.map((r) => String(r.n))
}

describe('mysql restore barrier (beforeSwitch)', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  let snap: StoredSnapshot
  const a = testDbName('bar_a')
  const b = testDbName('bar_b')

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-barrier')
    admin = await adminConnection()
    for (const db of [a, b])
      await admin.query(
        `CREATE DATABASE \`${db}\`;
         CREATE TABLE \`${db}\`.items (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB;
         INSERT INTO \`${db}\`.items VALUES (1, 'one'), (2, 'two'), (3, 'three');`,
      )
    repo = await createRepo(tmp.path)
    snap = (await snapshotDatabases(repo, [a, b])).snap
  })
  afterAll(async () => {
    for (const db of [a, b]) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.end()
    await tmp.cleanup()
  })

  const change = async (): Promise<void> => {
    for (const db of [a, b]) await admin.query(`UPDATE \`${db}\`.items SET name = 'x'`)
  }

  it('runs once, with every database staged and every target unchanged', async () => {
    await change()
    const before = { a: await describeDatabase(admin, a), b: await describeDatabase(admin, b) }
    const seen: { staged: string[][]; a: Record<string, string>; b: Record<string, string> }[] = []
    const phases: string[] = []
    await restoreMysql(await treeOf(repo, snap), parseMysqlUrl(MYSQL_URL), driverContext(), {
      onPhase: (p, db) => phases.push(`${p} ${db}`),
      beforeSwitch: async () => {
        const staged = [await stagingOf(admin, a), await stagingOf(admin, b)]
        // The staged tables are loaded and complete.
        for (const s of staged) {
          const [[n]] = await admin.query<mysql.RowDataPacket[]>(
            `SELECT COUNT(*) AS n FROM \`${s[0]}\`.items WHERE name <> 'x'`,
          )
          expect(Number(n?.n)).toBe(3)
        }
        seen.push({
          staged,
          a: await describeDatabase(admin, a),
          b: await describeDatabase(admin, b),
        })
      },
    })
    expect(seen).toHaveLength(1)
    expect(seen[0]!.staged.map((s) => s.length)).toEqual([1, 1])
    expect(seen[0]!.a).toEqual(before.a)
    expect(seen[0]!.b).toEqual(before.b)
    // Both databases were loaded before either was switched.
    expect(phases.indexOf(`load ${b}`)).toBeLessThan(phases.indexOf(`switch ${a}`))
    const [[r]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT GROUP_CONCAT(name ORDER BY id) AS v FROM \`${b}\`.items`,
    )
    expect(r?.v).toBe('one,two,three')
    expect([...(await stagingOf(admin, a)), ...(await stagingOf(admin, b))]).toEqual([])
  })

  it('tells onSwitched when every database is switched in, before the side databases go', async () => {
    await change()
    const seen: { staged: number; values: string[] }[] = []
    const phases: string[] = []
    await restoreMysql(await treeOf(repo, snap), parseMysqlUrl(MYSQL_URL), driverContext(), {
      onPhase: (p, db) => phases.push(`${p} ${db}`),
      onSwitched: async () => {
        phases.push('onSwitched')
        const values: string[] = []
        for (const db of [a, b]) {
          const [[r]] = await admin.query<mysql.RowDataPacket[]>(
            `SELECT GROUP_CONCAT(name ORDER BY id) AS v FROM \`${db}\`.items`,
          )
          values.push(String(r?.v))
        }
        const staged = (await stagingOf(admin, a)).length + (await stagingOf(admin, b)).length
        seen.push({ staged, values })
      },
    })
    // Called once, both targets already holding the snapshot's rows, the staging still there.
    expect(seen).toEqual([{ staged: 2, values: ['one,two,three', 'one,two,three'] }])
    expect(phases.indexOf('onSwitched')).toBeGreaterThan(phases.lastIndexOf(`switch ${b}`))
    expect(phases.indexOf('onSwitched')).toBeLessThan(phases.indexOf(`cleanup ${a}`))
    expect([...(await stagingOf(admin, a)), ...(await stagingOf(admin, b))]).toEqual([])
  })

  it('switches nothing and drops the staging when the barrier rejects', async () => {
    await change()
    const before = { a: await describeDatabase(admin, a), b: await describeDatabase(admin, b) }
    const refusal = new Error('the files could not be staged')
    let calls = 0
    await expect(
      restoreMysql(await treeOf(repo, snap), parseMysqlUrl(MYSQL_URL), driverContext(), {
        beforeSwitch: () => {
          calls++
          return Promise.reject(refusal)
        },
      }),
    ).rejects.toBe(refusal)
    expect(calls).toBe(1)
    expect(await describeDatabase(admin, a)).toEqual(before.a)
    expect(await describeDatabase(admin, b)).toEqual(before.b)
    expect([...(await stagingOf(admin, a)), ...(await stagingOf(admin, b))]).toEqual([])
  })
})
