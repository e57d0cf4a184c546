import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import {
  captureMysql,
  parseDatabaseEntry,
  parseMysqlUrl,
  restoreMysql,
  snapshotTreeReader,
} from '../../../src/capture/mysql/index.js'
import type { TreeReader } from '../../../src/capture/index.js'
import { RepoReader, SnapshotWriter, type Repository } from '../../../src/repo/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import { describeDatabase } from '../../fixtures/mysql/describe-database.js'
import {
  createFixtureDatabase,
  FIXTURE_DEFINER,
  type FixtureVariant,
} from '../../fixtures/mysql/load-fixture.js'
import {
  adminConnection,
  createRepo,
  driverContext,
  MYSQL_URL,
  testDbName,
} from './mysql-harness.js'

// The project's fixture of every type and object (test/fixtures/mysql/README.md), captured into
// a real repository and restored under another name: the description of the copy equals the
// original's, the database's name aside. Parts of 5,000 rows split the fixture's 20,000-row
// table, so the parallel parts and their key ranges are part of the round trip.
describe('mysql driver round trip of the fixture schema', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  const created: string[] = []

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-fixture-round-trip')
    admin = await adminConnection()
    // The fixture's definer holds its privileges on `ct_fx_…` only; the triggers it defines
    // must run in this test's own databases as well.
    await admin.query(`CREATE USER IF NOT EXISTS '${FIXTURE_DEFINER}'@'localhost'`)
    await admin.query(
      `GRANT ALL PRIVILEGES ON \`ct\\_my\\_%\`.* TO '${FIXTURE_DEFINER}'@'localhost'`,
    )
    repo = await createRepo(tmp.path)
  })
  afterAll(async () => {
    for (const d of created) await admin.query(`DROP DATABASE IF EXISTS \`${d}\``)
    await admin.end()
    await tmp.cleanup()
  })

  async function capture(db: string): Promise<TreeReader> {
    const writer = await SnapshotWriter.start(repo)
    await captureMysql(parseMysqlUrl(`${MYSQL_URL}/${db}`), writer, driverContext(), {
      partRows: 5000,
    })
    const snap = await writer.commit({ paths: ['/services/mysql'], hostname: 'shop' })
    return snapshotTreeReader(await RepoReader.open(repo), snap.tree)
  }

  it.each<FixtureVariant>(['main', 'latin1'])(
    'restores the %s fixture into another name, equal by description',
    async (variant) => {
      const db = testDbName(`fx_${variant}`)
      const copy = `${db}_copy`
      created.push(db, copy)
      await createFixtureDatabase(admin, db, variant)
      const want = await describeDatabase(admin, db)
      const tree = await capture(db)
      const restored = await restoreMysql(tree, parseMysqlUrl(MYSQL_URL), driverContext(), {
        databaseMap: { [db]: copy },
      })
      expect(restored.databases[0]?.target).toBe(copy)
      expect(await describeDatabase(admin, copy)).toEqual(want)

      // Restoring again in place finds every table equal (the split one hashed part by part)
      // and reloads the sequences only.
      const again = await restoreMysql(tree, parseMysqlUrl(MYSQL_URL), driverContext(), {
        databaseMap: { [db]: copy },
      })
      const [seqs] = await admin.query<mysql.RowDataPacket[]>(
        "SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'SEQUENCE' ORDER BY TABLE_NAME",
        [db],
      )
      expect([...(again.databases[0]?.reload ?? [])].sort()).toEqual(seqs.map((r) => String(r.n)))
      expect(await describeDatabase(admin, copy)).toEqual(want)
      if (variant !== 'main') return

      const chunks: Buffer[] = []
      for await (const c of tree.readFile(`services/mysql/${db}/database.json`))
        chunks.push(Buffer.from(c))
      const entry = parseDatabaseEntry('database.json', Buffer.concat(chunks).toString('utf8'))
      const many = entry.tables.find((t) => t.name === 'many_rows')
      expect(many?.rows).toBe(20_000)
      expect(many?.parts.length).toBeGreaterThan(1)
      expect(entry.comment).toBe('Coffer fixture ✓')
      // A column default drawing from a sequence draws from the copy's own sequence.
      const [[before]] = await admin.query<mysql.RowDataPacket[]>(
        `SELECT next_not_cached_value AS n FROM \`${db}\`.seq_ticket`,
      )
      await admin.query(`INSERT INTO \`${copy}\`.ticket (subject) VALUES ('from the copy')`)
      const [[after]] = await admin.query<mysql.RowDataPacket[]>(
        `SELECT next_not_cached_value AS n FROM \`${db}\`.seq_ticket`,
      )
      expect(String(after?.n)).toBe(String(before?.n))
      const [[mine]] = await admin.query<mysql.RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM \`${copy}\`.ticket WHERE subject = 'from the copy'`,
      )
      expect(Number(mine?.n)).toBe(1)
    },
    180_000,
  )
})
