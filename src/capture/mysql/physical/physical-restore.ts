import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { access, chown, constants, rm, stat, statfs } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CofferError, RefusedError } from '../../../errors.js'
import { forEachLimit } from '../../../lib/index.js'
import type { DriverContext, TreeReader } from '../../ports.js'
import { parseDatabaseEntry, type DatabaseEntry, type TableEntry } from '../database-entry.js'
import type { RestorePhase } from '../mysql-restore.js'
import { describeMysqlSource, type MysqlSource } from '../mysql-source.js'
import { fileNameOf, qualified, quoteIdent, quoteString, sideDatabases } from '../names.js'
import { renameDatabase } from '../object-sql.js'
import { loadDataSql } from '../row-format.js'
import { cellText, openSession, serverMessage, type MysqlSession } from '../session.js'
import { SessionPool } from '../session-pool.js'
import {
  parsePhysicalDatabaseEntry,
  parsePhysicalServiceEntry,
  type PhysicalDatabaseEntry,
  type PhysicalServiceEntry,
  type PhysicalTableEntry,
} from './physical-entry.js'
import { dropSideDatabases } from './side-cleanup.js'
import { readServerFacts, releaseSeries, serverFlavor, type ServerFacts } from './server-facts.js'
import { switchDatabase } from './switch.js'

export interface PhysicalRestoreOptions {
  /** The service's name in the tree (`services/<service>/`). Default `mysql`. */
  readonly service?: string
  /** Restore database OLD under the name NEW. */
  readonly databaseMap?: Readonly<Record<string, string>>
  /** Told each phase as it starts (the logical driver's phases, same meaning). */
  readonly onPhase?: (phase: RestorePhase, db: string) => void
}

export interface PhysicalRestoreResult {
  readonly databases: readonly {
    readonly database: string
    readonly target: string
    /** Tables whose tablespace was imported. */
    readonly imported: readonly string[]
    /** Tables loaded from their logical data (other engines, sequences, …). */
    readonly loaded: readonly string[]
    /** Target tables the snapshot does not have: moved out and dropped. */
    readonly dropped: readonly string[]
    readonly bytes: number
    readonly switchMs: number
  }[]
}

/** A database of a physical snapshot, read before anything is changed. */
interface Selected {
  readonly logical: DatabaseEntry
  readonly physical: PhysicalDatabaseEntry
  readonly creates: ReadonlyMap<string, string>
  readonly dir: string
}

/**
 * Restores the databases of a physical snapshot (docs/PHYSICAL.md, "Restore") into a server
 * whose data directory this process can write: per database, every table is created in a
 * staging database `<target>__coffer_stage_<id>`; InnoDB tables get `DISCARD TABLESPACE`,
 * their `.ibd` and `.cfg` are written from the repository straight into the staging
 * database's directory (owned like the directory, i.e. by the server's user) and
 * `IMPORT TABLESPACE`d; the other tables are loaded from their logical data; then the same
 * switch as the logical restore (one RENAME TABLE, then views, routines, triggers, events).
 *
 * Refuses with a RefusedError, before changing anything, when the snapshot's server series
 * (`10.11`), flavour or `innodb_page_size` differ from the target's, when the data directory
 * is not writable here, or when its filesystem lacks room for the staged files. A failure or
 * abort before the RENAME leaves the target as it was and drops the staging database.
 *
 * Concurrency: excludes other restores of the same target (logical or physical) through the
 * server lock `coffer_restore:<target>`.
 */
export async function restorePhysical(
  tree: TreeReader,
  target: MysqlSource,
  ctx: DriverContext,
  opts: PhysicalRestoreOptions = {},
): Promise<PhysicalRestoreResult> {
  const base = `services/${opts.service ?? 'mysql'}`
  const service = parsePhysicalServiceEntry(
    `${base}/physical.json`,
    await readText(tree, `${base}/physical.json`, ctx.signal),
  )
  const selected: Selected[] = []
  for (const db of service.databases) selected.push(await readDatabase(tree, base, db, ctx.signal))
  const sessions: MysqlSession[] = []
  try {
    for (let i = 0; i < target.connections; i++) sessions.push(await openSession(target))
    for (const s of sessions) await loadSettings(s)
    const facts = await readServerFacts(sessions[0]!)
    await refuseUnfit(service, selected, facts, target)
    const out: PhysicalRestoreResult['databases'][number][] = []
    for (const sel of selected) {
      const to = opts.databaseMap?.[sel.logical.name] ?? sel.logical.name
      out.push(await restoreDatabase(tree, sel, to, sessions, facts, ctx, opts))
    }
    return { databases: out }
  } catch (e) {
    if (ctx.signal.aborted) throw ctx.signal.reason
    if (e instanceof CofferError) throw e
    throw new CofferError(
      'restore_failed',
      `The physical MySQL restore into ${describeMysqlSource(target)} failed: ${serverMessage(e)}.`,
      { cause: e },
    )
  } finally {
    for (const s of sessions) s.destroy()
  }
}

async function readDatabase(
  tree: TreeReader,
  base: string,
  db: string,
  signal: AbortSignal,
): Promise<Selected> {
  const dir = `${base}/${fileNameOf(db)}`
  const logical = parseDatabaseEntry(
    `${dir}/database.json`,
    await readText(tree, `${dir}/database.json`, signal),
  )
  const physical = parsePhysicalDatabaseEntry(
    `${dir}/physical/tables.json`,
    await readText(tree, `${dir}/physical/tables.json`, signal),
  )
  const creates = new Map<string, string>()
  for (const t of [...logical.tables, ...physical.tables])
    creates.set(t.name, (await readText(tree, `${dir}/${t.file}.sql`, signal)).replace(/;\n$/, ''))
  return { logical, physical, creates, dir }
}

/** Every reason not to start, checked before the first change (issue: "refuses clearly"). */
async function refuseUnfit(
  service: PhysicalServiceEntry,
  selected: readonly Selected[],
  facts: ServerFacts,
  target: MysqlSource,
): Promise<void> {
  const where = describeMysqlSource(target)
  if (
    serverFlavor(service.serverVersion) !== serverFlavor(facts.version) ||
    releaseSeries(service.serverVersion) !== releaseSeries(facts.version)
  )
    throw new RefusedError(
      'refused',
      `The physical snapshot was taken on ${service.serverVersion} and ${where} runs ${facts.version}: tablespaces import only within one release series. Restore logically from a logical snapshot, or into a ${releaseSeries(service.serverVersion)} server.`,
    )
  if (service.innodbPageSize !== facts.innodbPageSize)
    throw new RefusedError(
      'refused',
      `The physical snapshot has InnoDB pages of ${service.innodbPageSize} bytes and ${where} uses ${facts.innodbPageSize}: its tablespaces cannot be imported.`,
    )
  if (!isAbsolute(facts.datadir))
    throw new RefusedError('refused', `The data directory of ${where} is not an absolute path.`)
  try {
    await access(facts.datadir, constants.W_OK)
    if (!(await stat(facts.datadir)).isDirectory()) throw new Error('not a directory')
  } catch (e) {
    throw new RefusedError(
      'refused',
      `The data directory ${facts.datadir} of ${where} is not writable from this host: a physical restore must run where the server keeps its files.`,
      { cause: e },
    )
  }
  const need = selected.reduce(
    (n, s) =>
      n +
      s.physical.tables.reduce((m, t) => m + t.ibd.size + t.cfg.size, 0) +
      s.logical.tables.reduce((m, t) => m + t.bytes, 0),
    0,
  )
  const fs = await statfs(facts.datadir)
  const free = Number(fs.bavail) * Number(fs.bsize)
  // The staged files plus a tenth: the logical tables' indexes and the server's own growth.
  if (free < need * 1.1)
    throw new RefusedError(
      'no_space',
      `The data directory ${facts.datadir} has ${free} bytes free; the restore needs about ${Math.ceil(need * 1.1)}.`,
    )
}

async function loadSettings(s: MysqlSession): Promise<void> {
  // As the logical load: values as stored, no re-validation; foreign_key_checks = 0 is also
  // what lets DISCARD TABLESPACE run on a table that a foreign key references.
  await s.query(
    "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO', foreign_key_checks = 0, unique_checks = 0, check_constraint_checks = 0",
  )
  await s.query('SET SESSION sql_log_bin = 0').catch(() => undefined)
}

async function restoreDatabase(
  tree: TreeReader,
  sel: Selected,
  to: string,
  sessions: MysqlSession[],
  facts: ServerFacts,
  ctx: DriverContext,
  opts: PhysicalRestoreOptions,
): Promise<PhysicalRestoreResult['databases'][number]> {
  const { logical, physical, creates, dir } = sel
  const name = logical.name
  const main = sessions[0]!
  const lockName = `coffer_restore:${to}`
  const got = (await main.query('SELECT GET_LOCK(?, 0)', [lockName]))[0]?.[0]
  if (Number(got) !== 1)
    throw new RefusedError('conflict', `Another restore into the database ${to} is running.`)
  const { stage, trash } = sideDatabases(to, randomBytes(4).toString('hex'))
  try {
    await dropSideDatabases(main, to, facts.datadir, ctx.log)
    opts.onPhase?.('plan', name)
    ctx.signal.throwIfAborted()

    opts.onPhase?.('stage', name)
    ctx.signal.throwIfAborted()
    await main.query(
      `CREATE DATABASE ${quoteIdent(stage)} CHARACTER SET ${quoteString(logical.characterSet)} COLLATE ${quoteString(logical.collation)}`,
    )
    await main.query(`USE ${quoteIdent(stage)}`)
    const files = new Map<string, string>()
    for (const t of [...physical.tables, ...logical.tables]) {
      await main.query(renameDatabase(creates.get(t.name) ?? '', name, stage))
      if ('sequenceNext' in t && t.kind === 'sequence' && t.sequenceNext)
        await main.query(`SELECT SETVAL(${qualified(stage, t.name)}, ${BigInt(t.sequenceNext)}, 0)`)
    }
    for (const t of physical.tables) {
      files.set(t.name, await tablespacePath(main, facts.datadir, stage, t.name))
      await main.query(`ALTER TABLE ${qualified(stage, t.name)} DISCARD TABLESPACE`)
    }
    ctx.signal.throwIfAborted()

    opts.onPhase?.('load', name)
    ctx.signal.throwIfAborted()
    const owner = await stat(join(facts.datadir, stage))
    const pool = new SessionPool(sessions)
    let bytes = 0
    const progress = (n: number): void => {
      bytes += n
      ctx.progress({ bytesDone: bytes, itemsDone: 0, phase: 'load' })
    }
    await forEachLimit(
      physical.tables,
      sessions.length,
      async (t, signal) => {
        const ibd = files.get(t.name)!
        await writeTablespaceFile(
          tree,
          `${dir}/physical/${t.file}.ibd`,
          ibd,
          owner,
          signal,
          progress,
        )
        const cfg = ibd.replace(/\.ibd$/, '.cfg')
        await writeTablespaceFile(
          tree,
          `${dir}/physical/${t.file}.cfg`,
          cfg,
          owner,
          signal,
          progress,
        )
        await pool.use((s) => s.query(`ALTER TABLE ${qualified(stage, t.name)} IMPORT TABLESPACE`))
        // The server no longer reads the .cfg; left behind it would keep DROP DATABASE of
        // the staging database from removing the directory.
        await rm(cfg, { force: true })
      },
      ctx.signal,
    )
    // IMPORT sets the counter from the tablespace (the last value used plus one), not from
    // the definition the server showed at capture, which may be higher (values reserved by a
    // multi-row insert): the definition's is what the snapshot holds. Set after every import,
    // one at a time: while a table linked by a foreign key is still being imported, ALTER
    // TABLE on the other waits for its lock.
    for (const t of physical.tables) {
      const next = autoIncrementOf(creates.get(t.name) ?? '')
      if (next !== undefined)
        await main.query(`ALTER TABLE ${qualified(stage, t.name)} AUTO_INCREMENT = ${next}`)
    }
    const parts = logical.tables
      .filter((t) => t.kind === 'table')
      .flatMap((t) => t.parts.map((p) => ({ t, p })))
    await forEachLimit(
      parts,
      sessions.length,
      async ({ t, p }, signal) => {
        const loaded = await pool.use((s) =>
          s.load(
            loadDataSql(stage, t.name, t.columns),
            counted(tree.readFile(`${dir}/${p.file}`, { signal }), progress),
          ),
        )
        if (loaded !== p.rows)
          throw new CofferError(
            'restore_failed',
            `Loading ${name}.${t.name} (${p.file}) gave ${loaded} rows where the snapshot has ${p.rows}.`,
          )
      },
      ctx.signal,
    )
    ctx.signal.throwIfAborted()

    opts.onPhase?.('switch', name)
    ctx.signal.throwIfAborted()
    const started = performance.now()
    const tables: readonly (PhysicalTableEntry | TableEntry)[] = [
      ...physical.tables,
      ...logical.tables,
    ]
    const dropped = await switchDatabase(
      main,
      logical,
      tables.map((t) => t.name),
      stage,
      trash,
      to,
    )
    const switchMs = Math.round(performance.now() - started)
    ctx.log.info(
      { database: to, switchMs, imported: physical.tables.length },
      'database switched in',
    )

    opts.onPhase?.('cleanup', name)
    await dropSideDatabases(main, to, facts.datadir, ctx.log)
    return {
      database: name,
      target: to,
      imported: physical.tables.map((t) => t.name),
      loaded: logical.tables.map((t) => t.name),
      dropped,
      bytes,
      switchMs,
    }
  } catch (e) {
    // Before the switch the target is untouched: only the staging database goes.
    await dropSideDatabases(main, to, facts.datadir, ctx.log, [stage]).catch(() => undefined)
    throw e
  } finally {
    await main.query('SELECT RELEASE_LOCK(?)', [lockName]).catch(() => undefined)
  }
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
  signal: AbortSignal,
  onBytes: (n: number) => void,
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

async function readText(tree: TreeReader, path: string, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of tree.readFile(path, { signal })) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks).toString('utf8')
}

async function* counted(
  data: AsyncIterable<Uint8Array>,
  onBytes: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const c of data) {
    onBytes(c.length)
    yield c
  }
}
