import { randomBytes } from 'node:crypto'
import type mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CofferError } from '../../../src/errors.js'
import { parseMysqlUrl } from '../../../src/capture/mysql/index.js'
import { openSessions } from '../../../src/capture/mysql/session.js'
import { adminConnection, MYSQL_URL } from './mysql-harness.js'

/** Connections of `user` the server still has. */
async function connectionsOf(admin: mysql.Connection, user: string): Promise<number> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?',
    [user],
  )
  return Number(rows[0]!.n)
}

/** Waits until the server has dropped every connection of `user` (or gives up after 5 s). */
async function settledConnectionsOf(admin: mysql.Connection, user: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const n = await connectionsOf(admin, user)
    if (n === 0) return 0
    await new Promise((r) => setTimeout(r, 50))
  }
  return connectionsOf(admin, user)
}

describe('opening sessions side by side', () => {
  const user = `ct_my_sess_${randomBytes(3).toString('hex')}`
  const password = randomBytes(12).toString('hex')
  let admin: mysql.Connection

  beforeAll(async () => {
    admin = await adminConnection()
    // Two connections at most: the third of three opened together is refused.
    await admin.query(
      `CREATE USER '${user}'@'%' IDENTIFIED BY '${password}' WITH MAX_USER_CONNECTIONS 2`,
    )
  })
  afterAll(async () => {
    await admin.query(`DROP USER IF EXISTS '${user}'@'%'`)
    await admin.end()
  })

  const source = (): ReturnType<typeof parseMysqlUrl> => {
    const url = new URL(MYSQL_URL)
    url.username = user
    url.password = password
    return parseMysqlUrl(url.toString())
  }

  it('opens distinct, usable sessions in order', async () => {
    const sessions = await openSessions(source(), 2)
    try {
      expect(sessions).toHaveLength(2)
      expect(new Set(sessions.map((s) => s.threadId)).size).toBe(2)
      for (const s of sessions) {
        const [row] = await s.query('SELECT CURRENT_USER()')
        expect(String(row?.[0])).toBe(`${user}@%`)
      }
    } finally {
      for (const s of sessions) await s.close()
    }
    expect(await settledConnectionsOf(admin, user)).toBe(0)
  })

  it('closes the sessions it opened when another cannot connect, and says why', async () => {
    const err = await openSessions(source(), 3).catch((e: unknown) => e)
    expect((err as CofferError).code).toBe('capture_failed')
    expect((err as CofferError).message).toMatch(
      /^Cannot connect to .*: .*max_user_connections.*\.$/,
    )
    expect((err as CofferError).message).not.toContain(password)
    expect(await settledConnectionsOf(admin, user)).toBe(0)
  })
})
