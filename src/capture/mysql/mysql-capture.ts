import { CofferError, InvalidInputError } from '../../errors.js'
import { forEachLimit } from '../../lib/index.js'
import type { DriverContext, TreeReader, TreeWriter } from '../ports.js'
import { captureRemedyOf } from './capture-remedy.js'
import type { DatabaseEntry, PartEntry, TableEntry } from './database-entry.js'
import { describeMysqlSource, takesDatabase, takesTable, type MysqlSource } from './mysql-source.js'
import { fileNameOf } from './names.js'
import {
  isTransactional,
  listDatabases,
  listTables,
  readEvents,
  readRoutines,
  readTriggers,
  readViews,
  sequenceNext,
  showCreateTable,
  type DatabaseInfo,
  type TableInfo,
} from './schema-reader.js'
import { cellText, errorNumber, openSessions, serverMessage, type MysqlSession } from './session.js'
import { SessionPool } from './session-pool.js'
import { ParentTables } from './parent-tables.js'
import { vouchedFingerprints, type TableFingerprint } from './table-fingerprint.js'
import {
  newCount,
  PART_ROWS,
  partBytes,
  partChunks,
  planParts,
  tableHash,
  tableReadOf,
} from './table-parts.js'

export interface MysqlCaptureOptions {
  /** The service's name in the tree: `services/<service>/…`. Default `mysql`. */
  readonly service?: string
  /** No read lock: one connection reads everything from one snapshot transaction. */
  readonly live?: boolean
  /**
   * Rows per part of a split table (by the server's estimate); a table with an integer
   * primary key and more rows than this is read in parallel parts. Default 500,000.
   */
  readonly partRows?: number
  /**
   * The parent snapshot's tree: tables the server vouches are unchanged since it are stored
   * from it without being read (parent-tables.ts).
   */
  readonly parent?: TreeReader
}

/** What a capture found and wrote (the service's part of the snapshot manifest). */
export interface MysqlCaptureResult {
  readonly service: string
  readonly server: string
  readonly serverVersion: string
  readonly mode: 'consistent' | 'live' | 'single-connection'
  /** Milliseconds the global read lock was held (0 when none was taken). */
  readonly lockMs: number
  readonly binlog?: { readonly file: string; readonly position: number; readonly gtid?: string }
  readonly databases: readonly {
    readonly name: string
    readonly tables: readonly Pick<TableEntry, 'name' | 'rows' | 'bytes' | 'sha256'>[]
  }[]
  /** `db.table` of tables whose engine has no transactions. */
  readonly nonTransactional: readonly string[]
  /**
   * `db.table` of system-versioned tables whose history is not stored, only their current rows
   * (transaction-precise versioning, system-versioning.ts).
   */
  readonly historyNotStored: readonly string[]
  /** `db.table` of tables stored from the parent snapshot, unread (unchanged since). */
  readonly reused: readonly string[]
  readonly rows: number
  readonly bytes: number
}

const ERR_ACCESS_DENIED = [1045, 1227]

/**
 * Captures the databases of one server into `services/<service>/` of a snapshot tree, in the
 * steps of DESIGN.md's driver interface so that an environment snapshot can hold the
 * database and the files at one moment:
 *
 *   prepare   connect N sessions (no lock yet)
 *   hold      FLUSH TABLES WITH READ LOCK (skipped when live; without the privilege the
 *             capture falls back to one session and says so in the log)
 *   final     every session opens START TRANSACTION WITH CONSISTENT SNAPSHOT; the binary
 *             log position is read; the table list is taken
 *   release   UNLOCK TABLES (lockMs is measured from hold to here)
 *   finish    dump definitions and data from the snapshot transactions, in parallel parts
 *   abort     drop every connection (safe at any step)
 *
 * Each step is called once, in order. A connection lost at any step rejects with a
 * `capture_failed` CofferError naming the server (never its password); nothing is
 * committed by the driver: the caller commits the snapshot only after `finish`.
 */
export class MysqlCapture {
  readonly service: string
  private sessions: MysqlSession[] = []
  private mode: MysqlCaptureResult['mode']
  private lockStart = 0
  /** The server's clock (whole seconds) once the global read lock was taken. */
  private lockSecond: number | undefined
  private fingerprints = new Map<string, Map<string, TableFingerprint>>()
  private readonly parentTables: ParentTables | undefined
  private readonly reused: string[] = []
  private lockMs = 0
  private locked = false
  private version = ''
  private binlog: MysqlCaptureResult['binlog']
  private databases: DatabaseInfo[] = []
  private tables = new Map<string, TableInfo[]>()
  private result: MysqlCaptureResult | undefined
  private readonly partRows: number

  constructor(
    private readonly source: MysqlSource,
    private readonly tree: TreeWriter,
    private readonly ctx: DriverContext,
    opts: MysqlCaptureOptions = {},
  ) {
    this.service = opts.service ?? 'mysql'
    this.mode = opts.live ? 'live' : 'consistent'
    this.partRows = opts.partRows ?? PART_ROWS
    this.parentTables = opts.parent
      ? new ParentTables(opts.parent, tree, this.service, ctx.log)
      : undefined
    if (!Number.isInteger(this.partRows) || this.partRows < 1)
      throw new InvalidInputError('part-rows', 'The rows per part must be a positive integer.')
  }

  private get main(): MysqlSession {
    const s = this.sessions[0]
    if (!s) throw new CofferError('capture_failed', 'The MySQL capture was not prepared.')
    return s
  }

  async prepare(): Promise<void> {
    await this.step('connect', async () => {
      const count = this.mode === 'live' ? 1 : this.source.connections
      this.sessions.push(...(await openSessions(this.source, count)))
      this.version = cellText((await this.main.query('SELECT VERSION()'))[0]?.[0])
    })
  }

  async hold(): Promise<void> {
    if (this.mode === 'live') return
    try {
      this.lockStart = performance.now()
      await this.main.query('FLUSH TABLES WITH READ LOCK')
      this.locked = true
      this.lockSecond = Number(cellText((await this.main.query('SELECT UNIX_TIMESTAMP()'))[0]?.[0]))
    } catch (e) {
      if (!ERR_ACCESS_DENIED.includes(errorNumber(e) ?? 0)) throw this.failure('lock', e)
      // Without RELOAD the sessions cannot be opened at one point; one session's snapshot
      // transaction still is one point for every transactional table.
      this.ctx.log.warn(
        { server: describeMysqlSource(this.source) },
        'no privilege for FLUSH TABLES WITH READ LOCK: capturing on one connection',
      )
      this.mode = 'single-connection'
      for (const s of this.sessions.splice(1)) await s.close()
    }
  }

  async final(): Promise<void> {
    await this.step('open the snapshot transactions', async () => {
      for (const s of this.sessions) {
        await s.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
        await s.query('START TRANSACTION WITH CONSISTENT SNAPSHOT')
      }
      // Reading the position needs BINLOG MONITOR (or SUPER); without it the snapshot simply
      // records none.
      const master = (
        await this.main.query('SHOW MASTER STATUS').catch((e: unknown) => {
          if (!ERR_ACCESS_DENIED.includes(errorNumber(e) ?? 0)) throw e
          this.ctx.log.info({}, 'no privilege to read the binary log position')
          return []
        })
      )[0]
      if (master) {
        const gtid = cellText((await this.main.query('SELECT @@GLOBAL.gtid_binlog_pos'))[0]?.[0])
        this.binlog = {
          file: String(master[0]),
          position: Number(master[1]),
          ...(gtid ? { gtid } : {}),
        }
      }
      this.databases = (await listDatabases(this.main)).filter((d) =>
        takesDatabase(this.source, d.name),
      )
      const missing = this.source.databases.filter((d) => !this.databases.some((x) => x.name === d))
      if (missing.length > 0)
        throw new CofferError(
          'capture_failed',
          `The database ${missing.join(', ')} does not exist on ${describeMysqlSource(this.source)}.`,
        )
      for (const d of this.databases)
        this.tables.set(
          d.name,
          (await listTables(this.main, d.name)).filter((t) =>
            takesTable(this.source, d.name, t.name),
          ),
        )
      // Only under the lock can the server vouch for what it says of each table.
      if (this.locked && this.lockSecond !== undefined)
        this.fingerprints = await vouchedFingerprints(
          this.main,
          this.databases.map((d) => d.name),
          this.lockSecond,
          this.ctx.log,
        )
    })
  }

  async release(): Promise<void> {
    if (!this.locked) return
    await this.step('unlock', () => this.main.query('UNLOCK TABLES'))
    this.locked = false
    this.lockMs = Math.round((performance.now() - this.lockStart) * 10) / 10
    this.ctx.log.info({ lockMs: this.lockMs }, 'global read lock released')
  }

  async finish(): Promise<MysqlCaptureResult> {
    const pool = new SessionPool(this.sessions)
    const entries: DatabaseEntry[] = []
    const nonTransactional: string[] = []
    const historyNotStored: string[] = []
    let bytesDone = 0
    let itemsDone = 0
    const itemsTotal = [...this.tables.values()].reduce((n, t) => n + t.length, 0)
    for (const db of this.databases) {
      const dir = `services/${this.service}/${fileNameOf(db.name)}`
      const infos = this.tables.get(db.name) ?? []
      const tables: TableEntry[] = []
      await forEachLimit(
        infos,
        this.sessions.length,
        async (t, signal) => {
          const entry = await this.dumpTable(pool, dir, t, signal, (n) => {
            bytesDone += n
            this.ctx.progress({ bytesDone, itemsDone, itemsTotal, phase: 'dump' })
          })
          tables.push(entry)
          itemsDone++
          if (!entry.transactional) nonTransactional.push(`${db.name}.${t.name}`)
          if (t.versioning && !entry.history) historyNotStored.push(`${db.name}.${t.name}`)
        },
        this.ctx.signal,
      ).catch((e: unknown) => {
        throw this.failure(`dump ${db.name}`, e)
      })
      tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      const entry = await this.step(`read the definitions of ${db.name}`, async () => ({
        version: 1 as const,
        name: db.name,
        characterSet: db.characterSet,
        collation: db.collation,
        ...(db.comment !== '' ? { comment: db.comment } : {}),
        tables,
        views: await readViews(this.main, db.name),
        triggers: await readTriggers(this.main, db.name),
        routines: await readRoutines(this.main, db.name),
        events: await readEvents(this.main, db.name),
      }))
      await this.writeText(`${dir}/database.json`, JSON.stringify(entry, null, 2) + '\n')
      entries.push(entry)
    }
    if (nonTransactional.length > 0)
      this.ctx.log.warn(
        { tables: nonTransactional },
        'tables without transactions were read as they were, not at the snapshot point',
      )
    if (historyNotStored.length > 0)
      this.ctx.log.warn(
        { tables: historyNotStored },
        'transaction-precise system-versioned tables: their current rows are stored, not their history',
      )
    for (const s of this.sessions) await s.query('COMMIT').catch(() => undefined)
    const result: MysqlCaptureResult = {
      service: this.service,
      server: describeMysqlSource(this.source),
      serverVersion: this.version,
      mode: this.mode,
      lockMs: this.lockMs,
      ...(this.binlog ? { binlog: this.binlog } : {}),
      databases: entries.map((d) => ({
        name: d.name,
        tables: d.tables.map((t) => ({
          name: t.name,
          rows: t.rows,
          bytes: t.bytes,
          sha256: t.sha256,
        })),
      })),
      nonTransactional,
      historyNotStored,
      reused: [...this.reused].sort(),
      rows: entries.reduce((n, d) => n + d.tables.reduce((m, t) => m + t.rows, 0), 0),
      bytes: entries.reduce((n, d) => n + d.tables.reduce((m, t) => m + t.bytes, 0), 0),
    }
    await this.writeText(
      `services/${this.service}/service.json`,
      JSON.stringify({ version: 1, ...result }, null, 2) + '\n',
    )
    await this.close()
    this.result = result
    return result
  }

  /** Closes every connection (releasing the lock if held). Safe to call at any step. */
  async abort(): Promise<void> {
    for (const s of this.sessions.splice(0)) s.destroy()
    this.locked = false
  }

  /** What the server vouched for of table `db`.`name` at the snapshot point (after `final`). */
  fingerprintOf(db: string, name: string): TableFingerprint | undefined {
    return this.fingerprints.get(db)?.get(name)
  }

  /**
   * The sessions whose snapshot transactions `final` opened, for the caller's own reads at the
   * snapshot's point between `final` and `finish` (the physical mode hashes its tables there).
   * `finish` uses them and closes them: the caller's reads must be done by then.
   */
  get snapshotSessions(): readonly MysqlSession[] {
    return this.sessions
  }

  /** Server connection ids of the capture's sessions (what `KILL` takes). */
  get connectionIds(): readonly number[] {
    return this.sessions.map((s) => s.threadId)
  }

  /** The result of `finish`. */
  get captured(): MysqlCaptureResult | undefined {
    return this.result
  }

  private async close(): Promise<void> {
    for (const s of this.sessions.splice(0)) await s.close()
  }

  private async dumpTable(
    pool: SessionPool,
    dir: string,
    t: TableInfo,
    signal: AbortSignal,
    onBytes: (n: number) => void,
  ): Promise<TableEntry> {
    const file = fileNameOf(t.name)
    const read = tableReadOf(t)
    const fingerprint = this.fingerprints.get(t.db)?.get(t.name)
    const { createSql, next } = await pool.use(async (s) => ({
      createSql: await showCreateTable(s, t.db, t.name, t.kind),
      next: t.kind === 'sequence' ? await sequenceNext(s, t.db, t.name) : undefined,
    }))
    const sqlText = createSql + ';\n'
    await this.writeText(`${dir}/${file}.sql`, sqlText)
    const prior = await this.parentTables?.unchanged(
      t.db,
      {
        name: t.name,
        kind: t.kind,
        columns: read.columns.map((c) => c.name),
        ...(read.splitColumn ? { splitColumn: read.splitColumn } : {}),
        sqlText,
        ...(fingerprint ? { fingerprint } : {}),
      },
      signal,
    )
    if (prior && fingerprint) {
      await this.parentTables!.reuse(t.db, prior, signal)
      onBytes(prior.bytes)
      this.reused.push(`${t.db}.${t.name}`)
      return {
        ...prior,
        engine: t.engine,
        transactional: isTransactional(t.engine),
        unchangedSince: fingerprint,
      }
    }
    const ranges =
      t.kind === 'sequence'
        ? []
        : await pool.use((s) => planParts(s, read, t.estimatedRows, this.partRows))
    const parts: PartEntry[] = []
    await forEachLimit(
      ranges.map((range, i) => ({ range, i })),
      Math.max(1, ranges.length),
      async ({ range, i }, partSignal) => {
        const name = `${file}.${String(i + 1).padStart(4, '0')}.tsv`
        const count = newCount()
        const opts = { signal: partSignal, mtime: this.ctx.now() }
        const tree = this.tree
        await pool.use((s) =>
          // Cut into chunks where the lines are made when the writer takes chunks.
          tree.writeChunkedFile && tree.pol !== undefined
            ? tree.writeChunkedFile(
                `${dir}/${name}`,
                partChunks(s, read, range, count, tree.pol, partSignal, onBytes),
                opts,
              )
            : tree.writeFile(
                `${dir}/${name}`,
                partBytes(s, read, range, count, partSignal, onBytes),
                opts,
              ),
        )
        parts[i] = {
          file: name,
          ...range,
          rows: count.rows,
          bytes: count.bytes,
          sha256: count.sha256,
        }
      },
      signal,
    )
    this.ctx.log.debug({ db: t.db, table: t.name, parts: parts.length }, 'table dumped')
    return {
      name: t.name,
      file,
      kind: t.kind,
      engine: t.engine,
      transactional: isTransactional(t.engine),
      columns: read.columns.map((c) => c.name),
      ...(read.splitColumn ? { splitColumn: read.splitColumn } : {}),
      ...(read.history ? { history: true as const } : {}),
      parts,
      rows: parts.reduce((n, p) => n + p.rows, 0),
      bytes: parts.reduce((n, p) => n + p.bytes, 0),
      sha256: tableHash(parts),
      ...(next !== undefined ? { sequenceNext: next } : {}),
      ...(fingerprint && t.kind === 'table' ? { unchangedSince: fingerprint } : {}),
    }
  }

  private async writeText(path: string, text: string): Promise<void> {
    await this.tree.writeFile(path, bytesOf(text), {
      signal: this.ctx.signal,
      mtime: this.ctx.now(),
    })
  }

  private async step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (e) {
      throw this.failure(what, e)
    }
  }

  private failure(what: string, e: unknown): unknown {
    if (this.ctx.signal.aborted) return this.ctx.signal.reason
    if (e instanceof CofferError) return e
    return new CofferError(
      'capture_failed',
      `The MySQL capture of ${describeMysqlSource(this.source)} failed (${what}): ${serverMessage(e)}.${captureRemedyOf(e)}`,
      { cause: e },
    )
  }
}

/**
 * Captures in one go (prepare, hold, final, release, finish); on failure every connection is
 * dropped and the error rethrown. The caller commits the snapshot afterwards.
 *
 * @example
 * const writer = await SnapshotWriter.start(repo, { signal })
 * const result = await captureMysql(parseMysqlUrl('mysql://root@127.0.0.1/shop'), writer, ctx)
 * await writer.commit({ paths: ['/services/mysql'] })
 */
export async function captureMysql(
  source: MysqlSource,
  tree: TreeWriter,
  ctx: DriverContext,
  opts: MysqlCaptureOptions = {},
): Promise<MysqlCaptureResult> {
  const c = new MysqlCapture(source, tree, ctx, opts)
  try {
    await c.prepare()
    await c.hold()
    await c.final()
    await c.release()
    return await c.finish()
  } catch (e) {
    await c.abort()
    throw e
  }
}

async function* bytesOf(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text, 'utf8')
}
