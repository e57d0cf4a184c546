import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { snapshotTreeReader } from '../../src/capture/index.js'
import { RefusedError } from '../../src/errors.js'
import { RepoReader, type Repository } from '../../src/repo/index.js'
import {
  createEnvironmentSnapshot,
  parseManifest,
  previewRestore,
  restoreEnvironment,
  type EnvironmentSpec,
  type Manifest,
} from '../../src/snapshots/index.js'
import {
  adminConnection,
  createRepo,
  describeDatabase,
  testDbName,
} from '../capture/mysql/mysql-harness.js'
import { describeTree } from '../helpers/dir-snapshot.js'
import { sideDatabasesOf as sideDatabases } from '../helpers/kill-restore.js'
import { testContext } from '../helpers/op-context.js'
import { makeTempDir } from '../helpers/tmp-dir.js'

// An environment whose database service is captured physically (mariabackup, tablespaces),
// on the real MariaDB. A writer adds orders (row, then its receipt file) and bumps a counter
// row in place — pages the hot full backup copied before the hold and that change after it —
// pausing between two orders while the maintenance hook holds it. A consistent snapshot must
// hold rows, counter and files of one moment: the tablespaces are brought to the hold's point
// by the incremental backup taken under the global read lock.

const WRITER = `
const mysql = require('mysql2/promise')
const fs = require('node:fs')
const [db, dir, flag, ack] = process.argv.slice(1)
const pause = (ms) => new Promise((r) => setTimeout(r, ms))
;(async () => {
  const c = await mysql.createConnection({ host: '127.0.0.1', user: 'root', database: db })
  for (;;) {
    while (fs.existsSync(flag)) {
      fs.writeFileSync(ack, '')
      await pause(2)
    }
    const [r] = await c.query("INSERT INTO orders (receipt, total) VALUES ('', 9.5)")
    const name = 'receipt-' + r.insertId + '.pdf'
    await c.query('UPDATE orders SET receipt = ? WHERE id = ?', [name, r.insertId])
    await c.query('UPDATE counters SET n = n + 1 WHERE name = ?', ['orders'])
    fs.writeFileSync(dir + '/' + name, Buffer.alloc(1500 + (r.insertId % 5) * 700, r.insertId % 253))
    await pause(8)
  }
})().catch((e) => { console.error(e); process.exit(1) })
`

const SCHEMA = `
CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, receipt VARCHAR(64) NOT NULL,
  total DECIMAL(10,2) NOT NULL, KEY by_receipt (receipt)) ENGINE=InnoDB;
CREATE TABLE counters (name VARCHAR(20) PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB;
CREATE TABLE notes (k INT PRIMARY KEY, v VARCHAR(20)) ENGINE=MyISAM;
INSERT INTO counters VALUES ('orders', 0);
INSERT INTO notes VALUES (1, 'one'), (2, 'two');
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
`

describe('environment snapshots with a physically captured database', () => {
  const db = testDbName('envph')
  const otherDb = testDbName('envph_b')
  let tmp: Awaited<ReturnType<typeof makeTempDir>>
  let admin: mysql.Connection
  let repo: Repository
  let env: EnvironmentSpec
  let other: EnvironmentSpec
  let media: string
  let writer: ChildProcess | undefined

  beforeAll(async () => {
    tmp = await makeTempDir('env-physical')
    media = join(tmp.path, 'shop/var/receipts')
    await mkdir(media, { recursive: true })
    await mkdir(join(tmp.path, 'other/var/receipts'), { recursive: true })
    admin = await adminConnection()
    await admin.query(`CREATE DATABASE \`${db}\`; USE \`${db}\`; ${SCHEMA}`)
    await admin.query(`CREATE DATABASE \`${otherDb}\``)
    const flag = join(tmp.path, 'maintenance.flag')
    const ack = join(tmp.path, 'maintenance.ack')
    env = {
      project: 'shop',
      name: 'develop',
      type: 'integration',
      services: [
        {
          name: 'mysql',
          kind: 'mysql',
          url: `mysql://root@127.0.0.1:3306/${db}`,
          mode: 'physical',
        },
      ],
      mounts: [{ name: 'var/receipts', path: media }],
      hooks: {
        hold: `touch ${flag}; while [ ! -e ${ack} ]; do sleep 0.002; done`,
        release: `rm -f ${ack} ${flag}`,
      },
    }
    other = {
      ...env,
      name: 'staging',
      hooks: {},
      services: [
        {
          name: 'mysql',
          kind: 'mysql',
          url: `mysql://root@127.0.0.1:3306/${otherDb}`,
          mode: 'physical',
        },
      ],
      mounts: [{ name: 'var/receipts', path: join(tmp.path, 'other/var/receipts') }],
    }
    repo = await createRepo(tmp.path)
  })

  afterAll(async () => {
    writer?.kill('SIGKILL')
    for (const d of [db, otherDb]) await admin.query(`DROP DATABASE IF EXISTS \`${d}\``)
    await admin.end()
    await tmp.cleanup()
  })

  // Without the writer, the maintenance hook would wait for it forever.
  const quiet = (): EnvironmentSpec => ({ ...env, hooks: {} })
  const auto = (): EnvironmentSpec => ({
    ...quiet(),
    services: [{ ...env.services[0]!, mode: 'auto' }],
  })

  const startWriter = async (): Promise<ChildProcess> => {
    const args = [db, media, join(tmp.path, 'maintenance.flag'), join(tmp.path, 'maintenance.ack')]
    const child = spawn(process.execPath, ['-e', WRITER, ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    for (let i = 0; i < 200 && (await count(db, 'orders')) < 150; i++)
      await new Promise((r) => setTimeout(r, 50))
    return child
  }

  const stopWriter = async (): Promise<void> => {
    const w = writer
    writer = undefined
    if (!w || w.exitCode !== null) return
    const exited = new Promise((r) => w.once('exit', r))
    w.kill('SIGKILL')
    await exited
  }

  const count = async (database: string, table: string): Promise<number> => {
    const [[r]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM \`${database}\`.\`${table}\``,
    )
    return Number(r?.n)
  }
  const receiptsIn = async (database: string): Promise<string[]> => {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT receipt FROM \`${database}\`.orders ORDER BY receipt`,
    )
    return rows.map((r) => String(r.receipt))
  }
  const filesIn = async (dir: string): Promise<string[]> =>
    (await readdir(dir)).filter((n) => n.startsWith('receipt-')).sort()

  const manifestOf = async (fullId: string): Promise<Manifest> => {
    const reader = await RepoReader.open(repo)
    const snap = await reader.findSnapshot(fullId, {})
    let text = ''
    for await (const c of snapshotTreeReader(reader, snap.tree).readFile('coffer.json'))
      text += Buffer.from(c).toString('utf8')
    return parseManifest(JSON.parse(text))
  }

  it('takes a consistent snapshot under a running writer: tablespaces, rows and files of one moment', async () => {
    writer = await startWriter()
    const ctx = testContext()
    const info = await createEnvironmentSnapshot(repo, env, { live: false, automated: false }, ctx)
    await stopWriter()
    expect(ctx.lines.join('\n')).toMatch(
      /^Database service mysql: physical mode \(the data directory \/\S+ is on this host\)$/m,
    )
    expect(ctx.lines.find((l) => l.startsWith('Writes were held for'))).toBeDefined()
    const manifest = await manifestOf(info.fullId)
    const service = manifest.services[0]!
    expect(service.mode).toBe('physical')
    expect(service.details).toMatchObject({
      physical: { tables: [`${db}.counters`, `${db}.orders`], logicalTables: [`${db}.notes`] },
    })
    const tables = service.databases[0]!.tables
    expect(tables.map((t) => t.name)).toEqual(['counters', 'notes', 'orders'])
    expect(tables.find((t) => t.name === 'orders')?.hash).toMatch(/^[0-9a-f]{64}$/)

    const result = await restoreEnvironment(repo, info.id, other, [], testContext())
    expect(result.tablesReloaded).toBe(3)
    const rows = await receiptsIn(otherDb)
    expect(rows.length).toBeGreaterThanOrEqual(150)
    // Every order's receipt row was written before its file: at one moment, both sets match.
    expect(await filesIn(other.mounts[0]!.path)).toEqual(rows)
    const [[c]] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT n FROM \`${otherDb}\`.counters WHERE name = 'orders'`,
    )
    expect(Number(c?.n)).toBe(rows.length)
  })

  // Captures of `db` come before any physical restore into it: mariabackup 10.11 loses a
  // tablespace imported since the server's last checkpoint, and this test server may not
  // checkpoint for the whole run (docs/PHYSICAL.md, "Captures after a physical restore").
  let live: { id: string; wanted: Record<string, string> }
  let quietSnap: {
    id: string
    wanted: Record<string, string>
    files: Awaited<ReturnType<typeof describeTree>>
  }

  it('auto picks physical here and says why', async () => {
    const ctx = testContext()
    const info = await createEnvironmentSnapshot(
      repo,
      auto(),
      { live: true, automated: false },
      ctx,
    )
    expect(ctx.lines).toContainEqual(
      expect.stringMatching(
        /^Database service mysql: physical mode \(the data directory .+ is on this host\)$/,
      ),
    )
    expect((await manifestOf(info.fullId)).services[0]?.mode).toBe('physical')
    live = { id: info.id, wanted: await describeDatabase(admin, db) }
  })

  it('leaves the database and the files as they were when the switch cannot start', async () => {
    const info = await createEnvironmentSnapshot(
      repo,
      quiet(),
      { live: false, automated: false },
      testContext(),
    )
    quietSnap = {
      id: info.id,
      wanted: await describeDatabase(admin, db),
      files: await describeTree(media),
    }
    await admin.query(`DELETE FROM \`${db}\`.orders WHERE id % 3 = 0`)
    await admin.query(`UPDATE \`${db}\`.notes SET v = 'changed'`)
    await admin.query(`CREATE TABLE \`${db}\`.extra (id INT PRIMARY KEY)`)
    await writeFile(join(media, 'stray.pdf'), 'not in the snapshot')
    await writeFile(join(media, (await filesIn(media))[0]!), 'changed')
    const before = await describeDatabase(admin, db)
    const filesBefore = await describeTree(media)

    // The environment's hold fails after every part was staged: nothing may switch.
    const failing: EnvironmentSpec = { ...quiet(), hooks: { hold: 'exit 3' } }
    await expect(restoreEnvironment(repo, info.id, failing, [], testContext())).rejects.toThrow(
      'The hold hook exited with 3.',
    )
    expect(await describeDatabase(admin, db)).toEqual(before)
    expect(await describeTree(media)).toEqual(filesBefore)

    // Aborted while staged and waiting for the hold: the same.
    const abort = new AbortController()
    const slow: EnvironmentSpec = { ...quiet(), hooks: { hold: 'sleep 5' } }
    const run = restoreEnvironment(repo, info.id, slow, [], testContext({ signal: abort.signal }))
    const aborted = expect(run).rejects.toThrow()
    await waitForStaging(admin, db)
    abort.abort(new Error('stopped at the barrier'))
    await aborted
    expect(await describeDatabase(admin, db)).toEqual(before)
    expect(await describeTree(media)).toEqual(filesBefore)
    expect(await sideDatabases(admin, db)).toEqual([])

    // A single table cannot come from a physical snapshot: refused before anything changes.
    const table = restoreEnvironment(
      repo,
      info.id,
      quiet(),
      [{ kind: 'table', service: 'mysql', database: db, table: 'orders' }],
      testContext(),
    )
    await expect(table).rejects.toBeInstanceOf(RefusedError)
    expect(await describeDatabase(admin, db)).toEqual(before)
  })

  it('restores database and files in place after both changed, and previews it first', async () => {
    const preview = await previewRestore(repo, quietSnap.id, quiet(), [], testContext())
    expect(preview.databases).toEqual([
      // counters is unchanged since the snapshot: kept (the delta), not imported.
      expect.objectContaining({ service: 'mysql', database: db, tables: 3, changedTables: 2 }),
    ])
    expect(preview.databases[0]!.changedBytes).toBeGreaterThan(0)

    const ctx = testContext()
    await restoreEnvironment(repo, quietSnap.id, quiet(), [], ctx)
    expect(ctx.lines.join('\n')).toMatch(/1 table imported from tablespaces, 1 loaded, 1 kept/)
    expect(await describeDatabase(admin, db)).toEqual(quietSnap.wanted)
    expect(await describeTree(media)).toEqual(quietSnap.files)
  })

  it('restores the database alone from a live snapshot, leaving the files', async () => {
    await admin.query(`DELETE FROM \`${db}\`.orders WHERE id < 20`)
    await writeFile(join(media, 'after.pdf'), 'kept')
    await restoreEnvironment(
      repo,
      live.id,
      auto(),
      [{ kind: 'database', service: 'mysql', database: db }],
      testContext(),
    )
    expect(await describeDatabase(admin, db)).toEqual(live.wanted)
    expect(await readdir(media)).toContain('after.pdf')
  })
})

/**
 * Waits until a staging database of `db` holds the changed tables, orders and notes (the
 * restore is at its barrier; counters is unchanged, kept in place by the delta).
 */
async function waitForStaging(admin: mysql.Connection, db: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT TABLE_SCHEMA AS s, COUNT(*) AS n FROM information_schema.TABLES
       WHERE TABLE_SCHEMA LIKE ? GROUP BY TABLE_SCHEMA`,
      [`${db.replaceAll('_', '\\_')}\\_\\_coffer\\_stage\\_%`],
    )
    if (rows.some((r) => Number(r.n) >= 2)) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`no staging database of ${db} appeared`)
}
