import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemo } from '../../src/demo/create-demo.js'
import { readMarker } from '../../src/demo/demo-marker.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

const SERVER = 'mysql://root@127.0.0.1:3306/'

/**
 * `coffer demo:remove` drops the databases the demo recorded: the demo must never record
 * (or touch) a database that was there before it.
 */
describe('the demo and an existing database of the same name', () => {
  const name = `coffer_demo_taken_${randomBytes(3).toString('hex')}`
  let admin: mysql.Connection
  let tmp: { path: string; cleanup: () => Promise<void> }

  beforeAll(async () => {
    admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' })
    await admin.query(`CREATE DATABASE \`${name}\``)
    await admin.query(`CREATE TABLE \`${name}\`.orders (id INT PRIMARY KEY)`)
    await admin.query(`INSERT INTO \`${name}\`.orders VALUES (1), (2)`)
    tmp = await makeTempDir('demo-taken')
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``)
    await admin.end()
    await tmp.cleanup()
  })

  it('refuses before recording or creating anything, and leaves the database as it was', async () => {
    const calls: string[] = []
    const run = createDemo({
      api: async (method, path) => {
        calls.push(`${method} ${path}`)
        return {}
      },
      dataDir: tmp.path,
      mysqlCandidates: [SERVER],
      say: () => undefined,
      now: () => new Date('2026-12-02T00:00:00Z'),
      database: name,
    })
    await expect(run).rejects.toThrow(
      `A database ${name} already exists on the local MariaDB/MySQL and this demo did not make it: the demo leaves it alone.`,
    )
    expect(calls).toEqual([])
    expect((await readMarker(tmp.path))?.databases).toEqual([])
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT id FROM \`${name}\`.orders ORDER BY id`,
    )
    expect(rows.map((r) => Number(r.id))).toEqual([1, 2])
  })
})
