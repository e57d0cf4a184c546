import type mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CofferError } from '../../../src/errors.js'
import type { Repository } from '../../../src/repo/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  captureFailureAfterSnapshotPoint,
  createRepo,
  MYSQL_URL,
  testDbName,
} from './mysql-harness.js'

// A schema upgrade that alters a table after the capture's snapshot point makes the server
// refuse to read it (ER_TABLE_DEF_CHANGED): the capture fails, stores nothing, and says what
// happened and what to do.
describe('a table altered during a capture', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  const db = testDbName('ddl')

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-capture-ddl')
    admin = await adminConnection()
    await admin.query(`CREATE DATABASE \`${db}\``)
    await admin.query(`CREATE TABLE \`${db}\`.orders (id INT PRIMARY KEY, total INT)`)
    await admin.query(`INSERT INTO \`${db}\`.orders VALUES (1, 10), (2, 20)`)
    repo = await createRepo(tmp.path)
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.end()
    await tmp.cleanup()
  })

  it('fails with the reason and the remedy, and writes no snapshot', async () => {
    const err = await captureFailureAfterSnapshotPoint(repo, `${MYSQL_URL}/${db}`, () =>
      // After the snapshot point, before the rows are read: as a deployment's setup:upgrade would.
      admin.query(`ALTER TABLE \`${db}\`.orders ADD COLUMN note TEXT, ALGORITHM=COPY`),
    )
    expect(err).toBeInstanceOf(CofferError)
    expect((err as CofferError).code).toBe('capture_failed')
    expect((err as Error).message).toBe(
      `The MySQL capture of mysql://root@127.0.0.1:3306 failed (dump ${db}): Table definition has changed, please retry transaction. A table's definition changed during the capture (ALTER TABLE, TRUNCATE or OPTIMIZE TABLE after its snapshot point, as a schema upgrade does): nothing was stored; take the snapshot again once the change is done.`,
    )
    expect(await repo.listSnapshots()).toEqual([])
  })
})
