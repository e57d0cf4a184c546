import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import { parseMysqlUrl, restoreMysql } from '../../../src/capture/mysql/index.js'
import {
  RepoReader,
  treePath,
  type Repository,
  type StoredSnapshot,
} from '../../../src/repo/index.js'
import { resticOk } from '../../helpers/restic.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  describeDatabase,
  driverContext,
  MYSQL_URL,
  nextSecond,
  REPO_PASSWORD,
  snapshotDatabases,
  testDbName,
  treeOf,
} from './mysql-harness.js'

/**
 * A capture with a parent snapshot stores the tables the server vouches are unchanged since
 * the parent (docs/MYSQL.md, "Capture after a parent") from the parent's blobs, unread; every
 * snapshot still restores to exactly the database it was taken of.
 */
describe('mysql capture reusing the parent snapshot', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  const db = testDbName('reuse')
  const copy = `${db}_copy`

  const capture = (parent?: StoredSnapshot) => snapshotDatabases(repo, [db], '', parent)

  /** Restores `snap` into the copy database and describes it. */
  async function restored(snap: StoredSnapshot): Promise<Record<string, string>> {
    await admin.query(`DROP DATABASE IF EXISTS \`${copy}\``)
    await restoreMysql(await treeOf(repo, snap), parseMysqlUrl(MYSQL_URL), driverContext(), {
      databaseMap: { [db]: copy },
    })
    const d = await describeDatabase(admin, copy)
    return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.replaceAll(copy, db)]))
  }

  /** The blob IDs of a stored part file. */
  async function contentOf(snap: StoredSnapshot, file: string): Promise<string[]> {
    const reader = await RepoReader.open(repo)
    const node = await reader.lookup(snap.tree, treePath(`services/mysql/${db}/${file}`))
    return [...(node?.content ?? [])]
  }

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-reuse')
    admin = await adminConnection()
    await admin.query(`CREATE DATABASE \`${db}\`; USE \`${db}\`;
      CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB;
      CREATE TABLE small (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
      CREATE TABLE other (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
      CREATE TABLE plain (id INT PRIMARY KEY) ENGINE=Aria;
      INSERT INTO big SELECT seq, CONCAT('row ', seq) FROM seq_1_to_30000;
      INSERT INTO small VALUES (1, 1), (2, 2);
      INSERT INTO other VALUES (1, 1);
      INSERT INTO plain VALUES (1);`)
    repo = await createRepo(tmp.path)
    await nextSecond(admin)
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\`; DROP DATABASE IF EXISTS \`${copy}\``)
    await admin.end()
    await tmp.cleanup()
  })

  let first: StoredSnapshot
  let second: StoredSnapshot
  it('stores the unchanged tables from the parent and reads the changed ones', async () => {
    first = (await capture()).snap
    expect((await capture()).result.reused).toEqual([])
    await admin.query(`UPDATE \`${db}\`.small SET v = 20 WHERE id = 2`)
    const want = await describeDatabase(admin, db)
    const c = await capture(first)
    second = c.snap
    expect(c.result.reused).toEqual([`${db}.big`, `${db}.other`])
    expect(await contentOf(second, 'big.0001.tsv')).toEqual(await contentOf(first, 'big.0001.tsv'))
    expect(c.result.databases[0]!.tables.find((t) => t.name === 'big')!.rows).toBe(30000)
    expect(await restored(second)).toEqual(want)
  })

  it('reads a table again when its fingerprint changed, even with the same rows', async () => {
    await admin.query(`TRUNCATE \`${db}\`.big;
      INSERT INTO \`${db}\`.big SELECT seq, CONCAT('row ', seq) FROM seq_1_to_30000;
      UPDATE \`${db}\`.big SET v = 'changed' WHERE id = 30000;
      ALTER TABLE \`${db}\`.other ADD COLUMN w INT NULL, ALGORITHM=INSTANT;`)
    const want = await describeDatabase(admin, db)
    const c = await capture(second)
    // big: new table ID; other: the same fingerprint but another definition; small: the
    // parent read it (changed then), so its fingerprint may be vouched now.
    expect(c.result.reused).not.toContain(`${db}.big`)
    expect(c.result.reused).not.toContain(`${db}.other`)
    expect(await restored(c.snap)).toEqual(want)
    // restic reads the snapshots that share blobs with their parents.
    await resticOk(join(tmp.path, 'repo'), REPO_PASSWORD, ['check', '--read-data'])
  })
})
