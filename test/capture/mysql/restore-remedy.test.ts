import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { remedyOf } from '../../../src/capture/mysql/restore-remedy.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import { adminConnection, testDbName } from './mysql-harness.js'

/**
 * A restore refused LOAD DATA LOCAL INFILE says how to allow it. The refusal is the real
 * server's: a client that does not offer local files gets the same error as a server with
 * `local_infile` off (MySQL 8's default), which the suite cannot turn off for the other files
 * that run beside it.
 */
describe('the remedy a failed restore names', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  const db = testDbName('remedy')

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-remedy')
    admin = await adminConnection()
    await admin.query(`CREATE DATABASE \`${db}\``)
    await admin.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY)`)
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.end()
    await tmp.cleanup()
  })

  it('says to turn local_infile on when the server refuses local files', async () => {
    const file = join(tmp.path, 'rows.tsv')
    await writeFile(file, '1\n')
    const c = await mysql.createConnection({
      host: '127.0.0.1',
      user: 'root',
      flags: ['-LOCAL_FILES'],
    })
    try {
      const refused = await c.query(`LOAD DATA LOCAL INFILE '${file}' INTO TABLE \`${db}\`.t`).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(refused).toBeDefined()
      expect(remedyOf(refused)).toContain("turn the server's local_infile on")
    } finally {
      await c.end()
    }
  })

  it('names no remedy for other failures', async () => {
    const other = await admin.query('SELECT * FROM no_such_db.t').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(other).toBeDefined()
    expect(remedyOf(other)).toBe('')
  })
})
