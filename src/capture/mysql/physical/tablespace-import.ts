import { createWriteStream } from 'node:fs'
import { chown, rm, stat } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CofferError } from '../../../errors.js'
import { counted, forEachLimit } from '../../../lib/index.js'
import type { TreeReader } from '../../ports.js'
import { qualified } from '../names.js'
import { cellText, serverMessage, type MysqlSession } from '../session.js'
import { SessionPool } from '../session-pool.js'
import type { PhysicalTableEntry } from './physical-entry.js'

/** Where tablespaces are imported: a database of a server whose data directory is here. */
export interface ImportTarget {
  /** Sessions on that server; the first runs the DDL, all of them the imports. */
  readonly sessions: readonly MysqlSession[]
  /** The server's data directory (`@@datadir`), as this host sees it. */
  readonly datadir: string
  /** The database the tables were created in, from their definitions. */
  readonly db: string
}

/** The snapshot's side of an import: where the files are and what the tables were. */
export interface ImportSource {
  readonly tree: TreeReader
  /** `services/<service>/<db>` in the tree. */
  readonly dir: string
  /** Each table's SHOW CREATE TABLE text, for its AUTO_INCREMENT counter. */
  readonly creates: ReadonlyMap<string, string>
}

/**
 * Imports `tables` (already created in `into.db` from their definitions) from the snapshot
 * (docs/PHYSICAL.md, "Restore", steps 2 and 3): each tablespace's path read, the tablespace
 * discarded, `.ibd` and `.cfg` written from the repository into the database's directory
 * (owned like that directory, i.e. by the server's user), `ALTER TABLE … IMPORT TABLESPACE`,
 * the `.cfg` removed; then each AUTO_INCREMENT set to the captured definition's. Used for the
 * target's staging database and for the private server of the logical fallback alike.
 *
 * A table whose IMPORT the server refuses (its own error: schema or row format mismatch, a
 * corrupt page, …) is not an error here: it is dropped, its files removed, and it is returned
 * with the server's message; the caller decides (recreate it and restore it logically, or
 * fail). Any other failure (connection, files, abort) rejects.
 */
export async function importTablespaces(
  source: ImportSource,
  tables: readonly PhysicalTableEntry[],
  into: ImportTarget,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<Map<string, string>> {
  const refused = new Map<string, string>()
  if (tables.length === 0) return refused
  const { sessions, datadir, db } = into
  const main = sessions[0]!
  const files = new Map<string, string>()
  for (const t of tables) {
    files.set(t.name, await tablespacePath(main, datadir, db, t.name))
    await main.query(`ALTER TABLE ${qualified(db, t.name)} DISCARD TABLESPACE`)
  }
  signal.throwIfAborted()
  const owner = await stat(join(datadir, db))
  const pool = new SessionPool(sessions)
  await forEachLimit(
    tables,
    sessions.length,
    async (t, tableSignal) => {
      const ibd = files.get(t.name)!
      const cfg = ibd.replace(/\.ibd$/, '.cfg')
      const write = (ext: string, to: string): Promise<void> =>
        writeTablespaceFile(source.tree, `${source.dir}/physical/${t.file}.${ext}`, to, owner, {
          signal: tableSignal,
          onBytes,
        })
      await write('ibd', ibd)
      await write('cfg', cfg)
      try {
        await pool.use((s) => s.query(`ALTER TABLE ${qualified(db, t.name)} IMPORT TABLESPACE`))
      } catch (e) {
        if (!refusedByServer(e)) throw e
        refused.set(t.name, serverMessage(e))
        // The table stays discarded: drop it (the server removes the files it knows; the
        // written ones go too, so that the table can be created again under its name).
        await pool.use((s) => s.query(`DROP TABLE ${qualified(db, t.name)}`))
        await rm(ibd, { force: true })
      }
      // The server no longer reads the .cfg; left behind it would keep DROP DATABASE of
      // the staging database from removing the directory.
      await rm(cfg, { force: true })
    },
    signal,
  )
  // IMPORT sets the counter from the tablespace (the last value used plus one), not from
  // the definition the server showed at capture, which may be higher (values reserved by a
  // multi-row insert): the definition's is what the snapshot holds. Set after every import,
  // one at a time: while a table linked by a foreign key is still being imported, ALTER
  // TABLE on the other waits for its lock.
  for (const t of tables) {
    const next = autoIncrementOf(source.creates.get(t.name) ?? '')
    if (next !== undefined && !refused.has(t.name))
      await main.query(`ALTER TABLE ${qualified(db, t.name)} AUTO_INCREMENT = ${next}`)
  }
  return refused
}

/**
 * Whether a failed IMPORT is the server's refusal of this tablespace (an SQL error it sent:
 * ER_TABLE_SCHEMA_MISMATCH, ER_INTERNAL_ERROR, a corrupt page, …) rather than a lost
 * connection or a killed statement, which fail the restore.
 */
function refusedByServer(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false
  const { sqlState, fatal, errno } = e as { sqlState?: unknown; fatal?: unknown; errno?: unknown }
  // 1317 ER_QUERY_INTERRUPTED, 1927 ER_CONNECTION_KILLED: someone stopped the restore.
  return typeof sqlState === 'string' && fatal !== true && errno !== 1317 && errno !== 1927
}

/**
 * Where the server keeps the tablespace of `db`.`table`, read from the server before the
 * tablespace is discarded (information_schema.INNODB_SYS_TABLESPACES gives it relative to
 * the data directory, `./db/table.ibd`).
 */
async function tablespacePath(
  s: MysqlSession,
  datadir: string,
  db: string,
  table: string,
): Promise<string> {
  const r = await s.query(
    'SELECT FILENAME FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME = ?',
    [`${db}/${table}`],
  )
  const file = cellText(r[0]?.[0])
  if (!file.endsWith('.ibd'))
    throw new CofferError(
      'restore_failed',
      `The server keeps no file-per-table tablespace for ${db}.${table} (innodb_file_per_table is off?).`,
    )
  return isAbsolute(file) ? file : join(datadir, file)
}

async function writeTablespaceFile(
  tree: TreeReader,
  from: string,
  to: string,
  owner: { uid: number; gid: number },
  { signal, onBytes }: { readonly signal: AbortSignal; readonly onBytes: (n: number) => void },
): Promise<void> {
  await pipeline(
    Readable.from(counted(tree.readFile(from, { signal }), onBytes)),
    createWriteStream(to, { flags: 'wx', mode: 0o660 }),
    { signal },
  )
  // The server opens the file as its own user: give it the owner of the database directory.
  await chown(to, owner.uid, owner.gid)
}

/** The `AUTO_INCREMENT=` table option of a SHOW CREATE TABLE text (after the column list). */
function autoIncrementOf(createSql: string): bigint | undefined {
  const options = createSql.slice(createSql.lastIndexOf(')'))
  const m = / AUTO_INCREMENT=(\d+)/.exec(options)
  return m ? BigInt(m[1]!) : undefined
}

/**
 * The session settings of a physical restore's connections, on the target and on the
 * private server alike. As the logical load: values as stored, no re-validation;
 * foreign_key_checks = 0 is also what lets DISCARD TABLESPACE run on a table that a foreign
 * key references, and lets a table be created before the tables it references.
 */
export async function restoreSettings(s: MysqlSession): Promise<void> {
  await s.query(
    "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO', foreign_key_checks = 0, unique_checks = 0, check_constraint_checks = 0",
  )
  await s.query('SET SESSION sql_log_bin = 0').catch(() => undefined)
}
