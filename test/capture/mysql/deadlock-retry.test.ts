import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isDeadlock, retryingDeadlocks } from '../../../src/capture/mysql/deadlock-retry.js'
import { parseMysqlUrl } from '../../../src/capture/mysql/index.js'
import { openSession } from '../../../src/capture/mysql/session.js'
import { silentLogger, type Logger } from '../../../src/lib/index.js'
import { adminConnection, MYSQL_URL, testDbName } from './mysql-harness.js'

const DB = testDbName('deadlock')
const T = `\`${DB}\`.\`t\``

/**
 * A real deadlock on the test server: two transactions each lock a row, then each asks for
 * the other's. InnoDB rolls one back with its deadlock error; that error is returned.
 */
async function realDeadlock(): Promise<unknown> {
  const source = parseMysqlUrl(MYSQL_URL)
  const a = await openSession(source)
  const b = await openSession(source)
  try {
    for (const s of [a, b]) await s.query('START TRANSACTION')
    await a.query(`UPDATE ${T} SET v = v + 1 WHERE id = 1`)
    await b.query(`UPDATE ${T} SET v = v + 1 WHERE id = 2`)
    const waits = a.query(`UPDATE ${T} SET v = v + 1 WHERE id = 2`)
    await new Promise((r) => setTimeout(r, 50))
    const results = await Promise.allSettled([
      waits,
      b.query(`UPDATE ${T} SET v = v + 1 WHERE id = 1`),
    ])
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (!failed) throw new Error('no deadlock happened')
    return failed.reason
  } finally {
    for (const s of [a, b]) await s.query('ROLLBACK').catch(() => undefined)
    for (const s of [a, b]) await s.close()
  }
}

/** A logger that keeps its warnings. */
function keptLog(): { log: Logger; warnings: object[] } {
  const warnings: object[] = []
  const log: Logger = { ...silentLogger, warn: (o) => void warnings.push(o), child: () => log }
  return { log, warnings }
}

describe('loads chosen to break a deadlock are run again', () => {
  beforeAll(async () => {
    const c = await adminConnection()
    await c.query(
      `CREATE DATABASE \`${DB}\`; CREATE TABLE ${T} (id INT PRIMARY KEY, v INT) ENGINE=InnoDB; INSERT INTO ${T} VALUES (1, 0), (2, 0)`,
    )
    await c.end()
  })
  afterAll(async () => {
    const c = await adminConnection()
    await c.query(`DROP DATABASE IF EXISTS \`${DB}\``)
    await c.end()
  })

  it("recognises the server's deadlock error", async () => {
    const e = await realDeadlock()
    expect(isDeadlock(e)).toBe(true)
    expect(isDeadlock(new Error('Deadlock found'))).toBe(false)
    expect(isDeadlock(undefined)).toBe(false)
  })

  it('runs a part again after a deadlock, and gives its result', async () => {
    const { log, warnings } = keptLog()
    const attempts: number[] = []
    const r = await retryingDeadlocks('db.t (part 0)', log, async (attempt) => {
      attempts.push(attempt)
      if (attempt === 1) throw await realDeadlock()
      return 42
    })
    expect(r).toBe(42)
    expect(attempts).toEqual([1, 2])
    expect(warnings).toEqual([{ part: 'db.t (part 0)', attempt: 1 }])
  })

  it('throws other errors at once, and a fourth deadlock in a row', async () => {
    const { log } = keptLog()
    const source = parseMysqlUrl(MYSQL_URL)
    const s = await openSession(source)
    let attempts = 0
    const other = await retryingDeadlocks('x', log, async () => {
      attempts++
      return s.query('SELECT * FROM no_such_db.no_such_table')
    }).catch((e: unknown) => e)
    await s.close()
    expect(attempts).toBe(1)
    expect((other as { errno?: number }).errno).toBe(1146)
    attempts = 0
    const deadlocked = await retryingDeadlocks('y', log, async () => {
      attempts++
      throw await realDeadlock()
    }).catch((e: unknown) => e)
    expect(attempts).toBe(4)
    expect(isDeadlock(deadlocked)).toBe(true)
  })
})
