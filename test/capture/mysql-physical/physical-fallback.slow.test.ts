import { chmod, readdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import { parseMysqlUrl } from '../../../src/capture/mysql/index.js'
import { capturePhysical, restorePhysical } from '../../../src/capture/mysql/physical/index.js'
import { CofferError, RefusedError } from '../../../src/errors.js'
import { SnapshotWriter, type Repository, type StoredSnapshot } from '../../../src/repo/index.js'
import {
  runCofferUntilKilled,
  sideDatabasesOf as sideDatabases,
} from '../../helpers/kill-restore.js'
import { makeTempDir } from '../../helpers/tmp-dir.js'
import {
  adminConnection,
  createRepo,
  describeDatabase,
  driverContext,
  MYSQL_URL,
  REPO_PASSWORD,
  treeOf,
} from '../mysql/mysql-harness.js'
import { TYPES_FIXTURE } from '../mysql/types-fixture.js'
import { physicalDbName as dbName, withEditedJson } from './physical-harness.js'
import { processesWith, startSecondServer, type SecondServer } from './second-server.js'

// The driver's types fixture (its `kinds` table has a FULLTEXT index and goes logical), plus
// the same awkward types in a table the physical capture takes as a tablespace, with UUID
// and INET6 columns (loaded through text, row-format.ts TEXT_INPUT_TYPES).
const TYPES = `${TYPES_FIXTURE}
SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
CREATE TABLE kinds_ph LIKE kinds;
ALTER TABLE kinds_ph DROP KEY ft, ADD uu UUID NULL, ADD ip INET6 NULL;
INSERT INTO kinds_ph (id, b, bl, vb, d, f, f2, dbl, dt, dtm, ts, tm, y, j, g, p, ls, e, st, u, l1, txt, inv)
  SELECT id, b, bl, vb, d, f, f2, dbl, dt, dtm, ts, tm, y, j, g, p, ls, e, st, u, l1, txt, inv FROM kinds;
UPDATE kinds_ph SET uu = '123e4567-e89b-12d3-a456-426655440000', ip = '2001:db8::7' WHERE id = 2;
INSERT INTO orders (total) SELECT seq / 7 FROM seq_1_to_3000;
SET SESSION sql_mode = DEFAULT;
`
const TYPES_PHYSICAL = ['audit', 'child', 'kinds_ph', 'nopk', 'orders', 'parent']

// `plain` is created without ROW_FORMAT, so it takes the server's innodb_default_row_format
// (dynamic on the main server); the others name theirs.
const ROW_FORMATS = `
CREATE DATABASE {DB};
USE {DB};
CREATE TABLE plain (
  id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(200), amount DECIMAL(10,2), at DATETIME(6), doc JSON
) ENGINE=InnoDB;
CREATE TABLE dyn (id INT PRIMARY KEY, v TEXT) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;
CREATE TABLE cmp (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB ROW_FORMAT=COMPACT;
CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(40)) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;
CREATE TRIGGER plain_log AFTER INSERT ON plain FOR EACH ROW INSERT INTO log (what) VALUES (CONCAT('plain ', NEW.id));
INSERT INTO plain (body, amount, at, doc)
  SELECT REPEAT('ä\\t', seq % 30), seq / 3, '2024-01-01' + INTERVAL seq SECOND, JSON_OBJECT('n', seq) FROM seq_1_to_2000;
INSERT INTO dyn SELECT seq, REPEAT('y', seq) FROM seq_1_to_300;
INSERT INTO cmp SELECT seq, HEX(seq) FROM seq_1_to_300;
`

describe(
  'mysql physical mode: logical fallback through a private server',
  { timeout: 300_000 },
  () => {
    let tmp: Awaited<ReturnType<typeof makeTempDir>>
    let admin: mysql.Connection
    let repo: Repository
    let snap: StoredSnapshot
    let pages8k: SecondServer
    let compact: SecondServer
    const types = dbName('fbty')
    const formats = dbName('fbrf')
    // The private server's scratch directories are named after this process.
    const scratch = `coffer-mariadbd-${process.pid}-`

    beforeAll(async () => {
      tmp = await makeTempDir('physical-fallback')
      // The servers run as `mysql` and must reach their directories below this one.
      await chmod(tmp.path, 0o755)
      admin = await adminConnection()
      await admin.query(TYPES.replaceAll('{DB}', types))
      await admin.query(ROW_FORMATS.replaceAll('{DB}', formats))
      repo = await createRepo(tmp.path)
      const writer = await SnapshotWriter.start(repo)
      await capturePhysical(
        parseMysqlUrl(`${MYSQL_URL}/${types},${formats}`),
        writer,
        driverContext(),
        { stagingParent: tmp.path },
      )
      snap = await writer.commit({ paths: ['/services/mysql'], hostname: 'shop' })
      // Two targets: one whose InnoDB pages are 8 KiB (no 16 KiB tablespace imports there),
      // and one whose tables are created compact when their definition names no row format.
      ;[pages8k, compact] = await Promise.all([
        startSecondServer(join(tmp.path, 'pages8k'), ['--innodb-page-size=8k']),
        startSecondServer(join(tmp.path, 'compact'), ['--innodb-default-row-format=compact']),
      ])
    }, 180_000)

    afterAll(async () => {
      for (const d of [types, formats]) await admin?.query(`DROP DATABASE IF EXISTS \`${d}\``)
      await admin?.end()
      await pages8k?.stop()
      await compact?.stop()
      await tmp?.cleanup()
    })

    /** Nothing of a private server is left: no process, no scratch directory. */
    async function expectNoPrivateServer(server: SecondServer): Promise<void> {
      expect(await processesWith(scratch)).toEqual([])
      const parent = dirname(server.datadir.replace(/\/$/, ''))
      expect((await readdir(parent)).filter((n) => n.startsWith('coffer-mariadbd-'))).toEqual([])
    }

    it('restores every physical table of a 16 KiB-page snapshot into an 8 KiB-page server logically', async () => {
      const notes: string[] = []
      const result = await restorePhysical(
        await treeOf(repo, snap),
        parseMysqlUrl(pages8k.url),
        driverContext(),
        { include: [types], onNote: (l) => notes.push(l) },
      )
      const reason = `mysql://root@127.0.0.1:${pages8k.port} has InnoDB pages of 8192 bytes and the snapshot's tablespaces have 16384`
      expect(result.databases[0]).toMatchObject({
        imported: [],
        fallbacks: [{ reason, tables: TYPES_PHYSICAL }],
      })
      expect([...(result.databases[0]?.loaded ?? [])].sort()).toEqual(
        [...TYPES_PHYSICAL, 'kinds', 'legacy', 'odd name-with.dots/and`tick', 'seq_invoice'].sort(),
      )
      expect(notes).toEqual([
        `Database ${types}: ${TYPES_PHYSICAL.join(', ')} restored logically through a private MariaDB server, because ${reason}`,
      ])
      const target = await pages8k.connect()
      try {
        const [[page]] = await target.query<mysql.RowDataPacket[]>('SELECT @@innodb_page_size AS p')
        expect(Number(page?.p)).toBe(8192)
        expect(await describeDatabase(target, types)).toEqual(await describeDatabase(admin, types))
        // The trigger exists again and fired for none of the loaded rows: audit has the
        // source's rows (describeDatabase compares their count and checksum), no more.
        const [[trigger]] = await target.query<mysql.RowDataPacket[]>(
          'SELECT COUNT(*) AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?',
          [types],
        )
        expect(Number(trigger?.n)).toBe(1)
        await expect(sideDatabases(target, types)).resolves.toEqual([])
      } finally {
        await target.end()
      }
      await expectNoPrivateServer(pages8k)
    })

    it('restores a table whose IMPORT the target refuses logically, the others physically', async () => {
      // A genuine schema mismatch: the target creates `plain` from its definition, which names
      // no row format, as COMPACT (its innodb_default_row_format), while the tablespace and its
      // .cfg are DYNAMIC: IMPORT fails with ER_TABLE_SCHEMA_MISMATCH. The private server
      // creates it with the row format recorded at capture and imports it.
      const notes: string[] = []
      const result = await restorePhysical(
        await treeOf(repo, snap),
        parseMysqlUrl(compact.url),
        driverContext(),
        { include: [formats], onNote: (l) => notes.push(l) },
      )
      expect(result.databases[0]).toMatchObject({
        imported: ['cmp', 'dyn', 'log'],
        loaded: ['plain'],
        fallbacks: [{ tables: ['plain'] }],
      })
      expect(notes).toHaveLength(1)
      expect(notes[0]).toMatch(
        new RegExp(
          `^Database ${formats}: plain restored logically through a private MariaDB server, because IMPORT TABLESPACE failed on the target: Schema mismatch .*ROW_FORMAT=DYNAMIC`,
        ),
      )
      const target = await compact.connect()
      try {
        expect(await describeDatabase(target, formats)).toEqual(
          await describeDatabase(admin, formats),
        )
        const [[fmt]] = await target.query<mysql.RowDataPacket[]>(
          "SELECT ROW_FORMAT AS f FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'plain'",
          [formats],
        )
        expect(fmt?.f).toBe('Compact')
        await expect(sideDatabases(target, formats)).resolves.toEqual([])
      } finally {
        await target.end()
      }
      await expectNoPrivateServer(compact)
    })

    it('fails with a clear message and changes nothing when the private server cannot start', async () => {
      const target = await compact.connect()
      try {
        // `plain` differs, so the delta reloads it, its IMPORT fails, and the fallback needs
        // the private server, whose binary is not there.
        await target.query(`UPDATE \`${formats}\`.plain SET amount = 0 WHERE id < 10`)
        const before = await describeDatabase(target, formats)
        const run = restorePhysical(
          await treeOf(repo, snap),
          parseMysqlUrl(compact.url),
          driverContext(),
          { include: [formats], mariadbd: '/nonexistent/mariadbd' },
        )
        await expect(run).rejects.toThrow(
          'The MariaDB server binary (/nonexistent/mariadbd) for a private server does not run: not found.',
        )
        await expect(run).rejects.toBeInstanceOf(CofferError)
        expect(await describeDatabase(target, formats)).toEqual(before)
        await expect(sideDatabases(target, formats)).resolves.toEqual([])
      } finally {
        await target.end()
      }
      await expectNoPrivateServer(compact)
      // When no table can be imported at all, that is known before anything changes: refused.
      const refused = restorePhysical(
        await treeOf(repo, snap),
        parseMysqlUrl(pages8k.url),
        driverContext(),
        { include: [types], mariadbd: '/nonexistent/mariadbd' },
      )
      await expect(refused).rejects.toBeInstanceOf(RefusedError)
      await expect(refused).rejects.toThrow('No logical fallback is possible either')
    })
    it('fails when rows read from a tablespace do not have the recorded content hash', async () => {
      const target = await pages8k.connect()
      try {
        // The target's nopk differs, so the delta reloads it through the private server; the
        // snapshot's tables.json records another hash for it, as if its files were damaged.
        await target.query(`DELETE FROM \`${types}\`.nopk WHERE a = 2`)
        const before = await describeDatabase(target, types)
        const path = `services/mysql/${types}/physical/tables.json`
        const tree = withEditedJson(await treeOf(repo, snap), path, (entry) => ({
          ...entry,
          tables: (entry['tables'] as { name: string; content: object }[]).map((t) =>
            t.name === 'nopk' ? { ...t, content: { ...t.content, sha256: '0'.repeat(64) } } : t,
          ),
        }))
        const run = restorePhysical(tree, parseMysqlUrl(pages8k.url), driverContext(), {
          include: [types],
        })
        await expect(run).rejects.toThrow(
          `The rows of ${types}.nopk read from its tablespace do not have the content hash recorded at capture`,
        )
        expect(await describeDatabase(target, types)).toEqual(before)
        await expect(sideDatabases(target, types)).resolves.toEqual([])
      } finally {
        await target.end()
      }
      await expectNoPrivateServer(pages8k)
    })

    it('a kill -9 of the restore while the private server runs takes the server and its directory along', async () => {
      const target = await pages8k.connect()
      try {
        await target.query(`UPDATE \`${types}\`.orders SET total = 0 WHERE id < 100`)
        const before = await describeDatabase(target, types)
        const args = [
          'repo:restore',
          'latest',
          '--repo',
          join(tmp.path, 'repo'),
          '--mysql',
          `${pages8k.url}/${types}`,
        ]
        const env = { ...process.env, COFFER_PASSWORD: REPO_PASSWORD, COFFER_REPOSITORY: '' }
        const { signal } = await runCofferUntilKilled(args, env, {
          when: async () => (await processesWith('coffer-mariadbd-')).length > 0,
        })
        expect(signal).toBe('SIGKILL')
        // The watchdog notices its parent's death (its standard input closes), kills the
        // server and removes the scratch directory.
        for (const started = Date.now(); ;) {
          const left = await processesWith('coffer-mariadbd-')
          const parent = dirname(pages8k.datadir.replace(/\/$/, ''))
          const dirs = (await readdir(parent)).filter((n) => n.startsWith('coffer-mariadbd-'))
          if (left.length === 0 && dirs.length === 0) break
          if (Date.now() - started > 30_000)
            throw new Error(`left after the kill: processes ${left.join(', ')}, ${dirs.join(', ')}`)
          await new Promise((r) => setTimeout(r, 100))
        }
        expect(await describeDatabase(target, types)).toEqual(before)
        // The next restore removes the staging database and finishes.
        const notes: string[] = []
        await restorePhysical(
          await treeOf(repo, snap),
          parseMysqlUrl(pages8k.url),
          driverContext(),
          {
            include: [types],
            onNote: (l) => notes.push(l),
          },
        )
        // nopk too: the failed restore before this one left it changed.
        expect(notes).toEqual([expect.stringContaining(': nopk, orders restored logically')])
        expect(await describeDatabase(target, types)).toEqual(await describeDatabase(admin, types))
        await expect(sideDatabases(target, types)).resolves.toEqual([])
      } finally {
        await target.end()
      }
    })
  },
)
