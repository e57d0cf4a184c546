import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import {
  captureMysql,
  MysqlCapture,
  parseMysqlUrl,
  snapshotTreeReader,
  type MysqlCaptureResult,
} from '../../../src/capture/mysql/index.js'
import type { DriverContext, TreeReader } from '../../../src/capture/index.js'
import { silentLogger } from '../../../src/lib/index.js'
import {
  LocalBackend,
  RepoReader,
  Repository,
  SnapshotWriter,
  TEST_KDF,
  type StoredSnapshot,
} from '../../../src/repo/index.js'

export const MYSQL_URL = 'mysql://root@127.0.0.1:3306'
export const REPO_PASSWORD = 'mysql-tests'

/** A database name of this test's own (`ct_my_<label>_<random>`), per the shared server's rules. */
export const testDbName = (label: string): string =>
  `ct_my_${label}_${randomBytes(3).toString('hex')}`

/** An admin connection to the test server (multiple statements allowed, for fixtures). */
export function adminConnection(): Promise<mysql.Connection> {
  return mysql.createConnection({
    host: '127.0.0.1',
    user: 'root',
    multipleStatements: true,
    timezone: 'Z',
  })
}

export function driverContext(signal: AbortSignal = new AbortController().signal): DriverContext {
  return { signal, log: silentLogger, now: () => new Date(), progress: () => {} }
}

export async function createRepo(dir: string): Promise<Repository> {
  return Repository.init({
    backend: await LocalBackend.open(join(dir, 'repo')),
    password: REPO_PASSWORD,
    kdf: TEST_KDF,
  })
}

/**
 * Runs a capture of `url` up to its snapshot point (prepare, hold, final, release), then
 * `interfere` (what goes wrong after it: a KILL, an ALTER TABLE), then the rest; returns what
 * the rest failed with (undefined if it did not), the capture and its writer aborted.
 */
export async function captureFailureAfterSnapshotPoint(
  repo: Repository,
  url: string,
  interfere: (capture: MysqlCapture) => Promise<unknown>,
): Promise<unknown> {
  const writer = await SnapshotWriter.start(repo)
  const capture = new MysqlCapture(parseMysqlUrl(url), writer, driverContext())
  await capture.prepare()
  await capture.hold()
  await capture.final()
  await capture.release()
  await interfere(capture)
  const err = await capture.finish().then(
    () => undefined,
    (e: unknown) => e,
  )
  await capture.abort()
  await writer.abort()
  return err
}

/** The server's clock, in whole seconds. */
export async function serverSecond(c: mysql.Connection): Promise<number> {
  const [[row]] = await c.query<mysql.RowDataPacket[]>('SELECT UNIX_TIMESTAMP() AS now')
  return Number(row!.now)
}

/**
 * Waits until the server's clock is in a later second than now: the server vouches for a
 * table (table-fingerprint.ts) only when its last change came before the capture's second.
 */
export async function nextSecond(c: mysql.Connection): Promise<void> {
  const now = await serverSecond(c)
  while ((await serverSecond(c)) <= now) await new Promise((r) => setTimeout(r, 100))
}

/**
 * Captures `databases` into a new snapshot of `repo` (incremental against `parent` when
 * given); returns it with the capture result.
 */
export async function snapshotDatabases(
  repo: Repository,
  databases: readonly string[],
  query = '',
  parent?: StoredSnapshot,
): Promise<{ snap: StoredSnapshot; result: MysqlCaptureResult }> {
  const writer = await SnapshotWriter.start(repo)
  try {
    const result = await captureMysql(
      parseMysqlUrl(`${MYSQL_URL}/${databases.join(',')}${query}`),
      writer,
      driverContext(),
      parent ? { parent: await treeOf(repo, parent) } : {},
    )
    const snap = await writer.commit({ paths: ['/services/mysql'], hostname: 'shop' })
    return { snap, result }
  } catch (e) {
    await writer.abort()
    throw e
  }
}

export async function treeOf(repo: Repository, snap: StoredSnapshot): Promise<TreeReader> {
  return snapshotTreeReader(await RepoReader.open(repo), snap.tree)
}

/** CHECKSUM TABLE and row count of every table, SHOW CREATE of every object, of `db`. */
/** The side databases (staging, trash, journal) a restore into `db` left on the server. */
export async function sideDatabasesLeft(c: mysql.Connection, db: string): Promise<string[]> {
  const [rows] = await c.query<mysql.RowDataPacket[]>(
    'SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
    [`${db.replace(/[\\%_]/g, (x) => `\\${x}`)}\\_\\_coffer\\_%`],
  )
  return rows.map((r) => String(r.n))
}

export async function describeDatabase(
  c: mysql.Connection,
  db: string,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  // SHOW CREATE VIEW qualifies names of other databases only: describe from inside `db`.
  await c.query(`USE \`${db}\``)
  const [tables] = await c.query<mysql.RowDataPacket[]>(
    'SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME',
    [db],
  )
  const q = (n: string): string => `\`${db}\`.\`${n.replaceAll('`', '``')}\``
  for (const t of tables) {
    const name = String(t.TABLE_NAME)
    if (t.TABLE_TYPE === 'VIEW') {
      const [[v]] = await c.query<mysql.RowDataPacket[]>(`SHOW CREATE VIEW ${q(name)}`)
      out[`view ${name}`] = JSON.stringify(Object.values(v ?? {})).replaceAll(db, 'DB')
      continue
    }
    const [[cr]] = await c.query<mysql.RowDataPacket[]>(
      t.TABLE_TYPE === 'SEQUENCE'
        ? `SHOW CREATE SEQUENCE ${q(name)}`
        : `SHOW CREATE TABLE ${q(name)}`,
    )
    out[`create ${name}`] = String(Object.values(cr ?? {})[1])
    if (t.TABLE_TYPE === 'SEQUENCE') continue
    const [[ck]] = await c.query<mysql.RowDataPacket[]>(`CHECKSUM TABLE ${q(name)}`)
    const [[n]] = await c.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${q(name)}`)
    out[`data ${name}`] = `${String(ck?.Checksum)} rows=${String(n?.n)}`
  }
  for (const [kind, sql] of [
    [
      'trigger',
      `SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?`,
    ],
    [
      'procedure',
      `SELECT ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE = 'PROCEDURE'`,
    ],
    [
      'function',
      `SELECT ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE = 'FUNCTION'`,
    ],
    ['event', `SELECT EVENT_NAME AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`],
  ] as const) {
    const [names] = await c.query<mysql.RowDataPacket[]>(sql, [db])
    for (const r of names) {
      const [[row]] = await c.query<mysql.RowDataPacket[]>(`SHOW CREATE ${kind} ${q(String(r.n))}`)
      // Drop the creation time of triggers, which differs by nature.
      const v = { ...row }
      delete v.Created
      out[`${kind} ${String(r.n)}`] = JSON.stringify(Object.values(v)).replaceAll(db, 'DB')
    }
  }
  const [[s]] = await c.query<mysql.RowDataPacket[]>(
    'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
    [db],
  )
  out['database'] = `${String(s?.cs)} ${String(s?.co)}`
  return out
}
