import { execFile } from 'node:child_process'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import {
  captureMysql,
  parseDatabaseEntry,
  parseMysqlUrl,
} from '../../../src/capture/mysql/index.js'
import { SnapshotWriter, type Repository } from '../../../src/repo/index.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  driverContext,
  MYSQL_URL,
  REPO_PASSWORD,
  testDbName,
} from './mysql-harness.js'

const run = promisify(execFile)
const CLIENT = ['--host=127.0.0.1', '--port=3306', '--user=root']

/** Runs the stock `mariadb` client in `cwd`, `input` on its standard input. */
async function mariadb(cwd: string, args: string[], input = ''): Promise<void> {
  const running = run('mariadb', [...CLIENT, ...args], { cwd })
  running.child.stdin?.end(input)
  await running
}

// docs/FORMAT.md, section 9, "Worked example": the files taken out of the repository with
// restic itself, loaded with the stock client, give a table equal by CHECKSUM TABLE.
describe('mysql data files and the stock tools', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  const db = testDbName('stock')

  beforeAll(async () => {
    tmp = await makeTempDir('mysql-stock-client')
    admin = await adminConnection()
    await admin.query(`
      CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
      USE \`${db}\`;
      CREATE TABLE orders (id INT PRIMARY KEY, total DECIMAL(10,2), note VARCHAR(50),
        f FLOAT, raw BLOB, ref UUID, KEY by_total (total)) ENGINE=InnoDB;
      INSERT INTO orders SELECT seq, seq * 1.25, CONCAT('n', seq), seq / 3, UNHEX(SHA2(seq, 256)),
        CONCAT('01234567-89ab-4def-8123-', LPAD(HEX(seq), 12, '0')) FROM seq_1_to_3000;
      INSERT INTO orders VALUES
        (0, NULL, 'tab\\there\\nnew line \\\\ back', 3.4028234e38, X'00090A0D5C4E', NULL),
        (-1, 0, '', -1.17549435e-38, '', '00000000-0000-0000-0000-000000000000');
      CREATE TABLE nopk (a INT, b VARCHAR(10)) ENGINE=InnoDB;
      INSERT INTO nopk VALUES (1, 'x'), (1, 'x'), (NULL, NULL);`)
    repo = await createRepo(tmp.path)
  })
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.end()
    await tmp.cleanup()
  })

  it('loads by hand, with restic and mariadb, into a table equal by CHECKSUM TABLE', async () => {
    const checksums = async (): Promise<string[]> => {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(
        `CHECKSUM TABLE \`${db}\`.orders, \`${db}\`.nopk EXTENDED`,
      )
      return rows.map((r) => `${String(r.Table).split('.')[1]} ${String(r.Checksum)}`)
    }
    const want = await checksums()
    const writer = await SnapshotWriter.start(repo)
    await captureMysql(parseMysqlUrl(`${MYSQL_URL}/${db}`), writer, driverContext(), {
      partRows: 1000,
    })
    const snap = await writer.commit({ paths: ['/services/mysql'], hostname: 'shop' })
    await admin.query(`DROP DATABASE \`${db}\``)

    // restic -r REPO restore SNAPSHOT --target /tmp/r --include /services/mysql/shop
    const out = join(tmp.path, 'r')
    await run(
      'restic',
      [
        '-r',
        join(tmp.path, 'repo'),
        'restore',
        snap.id,
        '--target',
        out,
        '--include',
        `/services/mysql/${db}`,
      ],
      { env: { ...process.env, RESTIC_PASSWORD: REPO_PASSWORD } },
    )
    const dir = join(out, 'services', 'mysql', db)
    const entry = parseDatabaseEntry(
      'database.json',
      await readFile(join(dir, 'database.json'), 'utf8'),
    )
    const orders = entry.tables.find((t) => t.name === 'orders')!
    expect(orders.parts.length).toBeGreaterThan(1)

    await mariadb(dir, [
      '-e',
      `CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
    ])
    // cat *.sql | mariadb --init-command='SET foreign_key_checks=0' shop
    const sqlFiles = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()
    const definitions = (
      await Promise.all(sqlFiles.map((f) => readFile(join(dir, f), 'utf8')))
    ).join('')
    await mariadb(dir, ['--init-command=SET foreign_key_checks=0', db], definitions)
    for (const t of entry.tables)
      for (const p of t.parts) {
        // UUID, INET4 and INET6 columns go through a variable (FORMAT.md, "Data files").
        const columns = t.columns.map((c) => (c === 'ref' ? '@ref' : `\`${c}\``)).join(', ')
        const set = t.columns.includes('ref') ? ' SET ref = CONVERT(@ref USING utf8mb4)' : ''
        await mariadb(dir, [
          '--local-infile=1',
          db,
          '-e',
          `SET sql_mode='NO_AUTO_VALUE_ON_ZERO', time_zone='+00:00',
            foreign_key_checks=0, unique_checks=0, check_constraint_checks=0;
            LOAD DATA LOCAL INFILE '${p.file}' INTO TABLE \`${t.name}\` CHARACTER SET binary
            FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${columns})${set}`,
        ])
      }
    expect(await checksums()).toEqual(want)
  }, 120_000)
})
