import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CofferError } from '../../../errors.js'
import { forEachLimit } from '../../../lib/index.js'
import type { DriverContext, TreeWriter } from '../../ports.js'
import { MysqlCapture, type MysqlCaptureResult } from '../mysql-capture.js'
import {
  describeMysqlSource,
  takesDatabase,
  takesTable,
  type MysqlSource,
} from '../mysql-source.js'
import { fileNameOf } from '../names.js'
import { listDatabases, listTables, showCreateTable } from '../schema-reader.js'
import { cellText, openSession, serverMessage, type MysqlSession } from '../session.js'
import { backupAndPrepare, mariabackupVersion } from './mariabackup.js'
import type {
  FileDigest,
  PhysicalDatabaseEntry,
  PhysicalServiceEntry,
  PhysicalTableEntry,
} from './physical-entry.js'
import { readServerFacts } from './server-facts.js'

export interface PhysicalCaptureOptions {
  /** The service's name in the tree (`services/<service>/`). Default `mysql`. */
  readonly service?: string
  /**
   * Where the backup is staged: a new directory is made inside. It must be on the server's
   * filesystem with room for the selected databases' files, the system tablespace and the
   * redo log (docs/PHYSICAL.md, "Disk space"). Default: the parent of the data directory.
   */
  readonly stagingParent?: string
}

export interface PhysicalCaptureResult {
  readonly service: string
  readonly serverVersion: string
  readonly innodbPageSize: number
  /** `db.table` of the tables stored as tablespace files. */
  readonly physical: readonly string[]
  /** `db.table` of the tables stored logically (other engines, partitions, full-text, …). */
  readonly logical: readonly string[]
  readonly physicalBytes: number
  /** Bytes the staging directory held at its largest (after `--prepare`). */
  readonly stagingBytes: number
  readonly backupMs: number
  readonly prepareMs: number
  readonly storeMs: number
  /** The logical capture of the other tables and of every view, routine, trigger, event. */
  readonly logicalResult: MysqlCaptureResult
}

/** A table that `IMPORT TABLESPACE` can take as it is. */
interface Candidate {
  readonly db: string
  readonly name: string
  readonly rowFormat: string
  readonly createSql: string
}

/**
 * Captures databases physically (docs/PHYSICAL.md): a hot `mariabackup --backup` of the
 * selected databases into a staging directory, `--prepare --export`, then every eligible
 * InnoDB table's `.ibd` and `.cfg` streamed into `services/<service>/<db>/physical/` with its
 * definition as `<db>/<file>.sql`. Everything else — tables of other engines, partitioned
 * or full-text tables, sequences, and every view, trigger, routine and event — is captured by
 * the logical driver (MysqlCapture) into the same directories, so `database.json` lists the
 * logical tables and `physical/tables.json` the physical ones.
 *
 * The tablespaces are consistent at the backup's point; the logical part at its own
 * (a second, short read lock). A table whose definition changed between the two rejects the
 * capture. Nothing is committed by this function; the staging directory is always removed.
 */
export async function capturePhysical(
  source: MysqlSource,
  tree: TreeWriter,
  ctx: DriverContext,
  opts: PhysicalCaptureOptions = {},
): Promise<PhysicalCaptureResult> {
  const service = opts.service ?? 'mysql'
  const s = await openSession(source)
  let work: string | undefined
  try {
    const facts = await readServerFacts(s)
    const dbs = (await listDatabases(s)).map((d) => d.name).filter((d) => takesDatabase(source, d))
    const missing = source.databases.filter((d) => !dbs.includes(d))
    if (missing.length > 0)
      throw new CofferError(
        'capture_failed',
        `The database ${missing.join(', ')} does not exist on ${describeMysqlSource(source)}.`,
      )
    const before = await candidates(s, source, dbs)
    work = await mkdtemp(join(opts.stagingParent ?? join(facts.datadir, '..'), 'coffer-physical-'))
    ctx.progress({ bytesDone: 0, itemsDone: 0, phase: 'backup' })
    const backup = await backupAndPrepare(source, dbs, work, ctx.signal)
    const stagingBytes = await directoryBytes(work)

    // A table is stored physically only if the prepared backup has both of its files and its
    // definition is the one read before the backup (no DDL in between).
    const after = new Map((await candidates(s, source, dbs)).map((c) => [`${c.db}.${c.name}`, c]))
    const physical: Candidate[] = []
    for (const c of before) {
      const now = after.get(`${c.db}.${c.name}`)
      if (!now || now.createSql !== c.createSql)
        throw new CofferError(
          'capture_failed',
          `The table ${c.db}.${c.name} changed during the physical capture; capture again.`,
        )
      const dir = join(backup.targetDir, c.db)
      if ((await exists(join(dir, `${c.name}.ibd`))) && (await exists(join(dir, `${c.name}.cfg`))))
        physical.push(c)
    }

    const started = performance.now()
    const entries = new Map<string, PhysicalTableEntry[]>(dbs.map((d) => [d, []]))
    let bytesDone = 0
    await forEachLimit(
      physical,
      2,
      async (c, signal) => {
        const base = `services/${service}/${fileNameOf(c.db)}`
        const file = fileNameOf(c.name)
        const from = join(backup.targetDir, c.db, c.name)
        await writeText(tree, `${base}/${file}.sql`, c.createSql + ';\n', ctx, signal)
        const store = (ext: string): Promise<FileDigest> =>
          storeFile(tree, `${from}.${ext}`, `${base}/physical/${file}.${ext}`, ctx, signal, (n) => {
            bytesDone += n
            ctx.progress({ bytesDone, itemsDone: 0, phase: 'store' })
          })
        const ibd = await store('ibd')
        const cfg = await store('cfg')
        entries.get(c.db)?.push({
          name: c.name,
          file,
          engine: 'InnoDB',
          rowFormat: c.rowFormat,
          ibd,
          cfg,
        })
      },
      ctx.signal,
    )
    for (const db of dbs) {
      const tables = (entries.get(db) ?? []).sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
      )
      const entry: PhysicalDatabaseEntry = { version: 1, name: db, tables }
      await writeText(
        tree,
        `services/${service}/${fileNameOf(db)}/physical/tables.json`,
        JSON.stringify(entry, null, 2) + '\n',
        ctx,
        ctx.signal,
      )
    }
    const storeMs = Math.round(performance.now() - started)
    // The physical tables stay out of the logical capture; it still writes database.json with
    // every view, trigger, routine and event, and the data of the other tables.
    const logicalResult = await captureRest(source, dbs, physical, tree, ctx, service)
    const serviceEntry: PhysicalServiceEntry = {
      version: 1,
      mode: 'physical',
      serverVersion: facts.version,
      innodbPageSize: facts.innodbPageSize,
      tool: await mariabackupVersion(ctx.signal),
      databases: dbs,
    }
    await writeText(
      tree,
      `services/${service}/physical.json`,
      JSON.stringify(serviceEntry, null, 2) + '\n',
      ctx,
      ctx.signal,
    )
    const physicalNames = physical.map((c) => `${c.db}.${c.name}`)
    const result: PhysicalCaptureResult = {
      service,
      serverVersion: facts.version,
      innodbPageSize: facts.innodbPageSize,
      physical: physicalNames,
      logical: logicalResult.databases.flatMap((d) => d.tables.map((t) => `${d.name}.${t.name}`)),
      physicalBytes: bytesDone,
      stagingBytes,
      backupMs: backup.backupMs,
      prepareMs: backup.prepareMs,
      storeMs,
      logicalResult,
    }
    ctx.log.info(
      {
        physical: physical.length,
        logical: result.logical.length,
        backupMs: backup.backupMs,
        prepareMs: backup.prepareMs,
        storeMs,
      },
      'physical capture done',
    )
    return result
  } catch (e) {
    if (ctx.signal.aborted) throw ctx.signal.reason
    if (e instanceof CofferError) throw e
    throw new CofferError(
      'capture_failed',
      `The physical MySQL capture of ${describeMysqlSource(source)} failed: ${serverMessage(e)}.`,
      { cause: e },
    )
  } finally {
    s.destroy()
    if (work) await rm(work, { recursive: true, force: true })
  }
}

/**
 * InnoDB tables of `dbs` whose tablespace can be exported and imported as one file: not
 * partitioned (one file per partition), no FULLTEXT index (its auxiliary tables are not
 * exported), a name that is its own file name (the server encodes other characters), not a
 * sequence (restored with SETVAL). The others go logical.
 */
async function candidates(
  s: MysqlSession,
  source: MysqlSource,
  dbs: readonly string[],
): Promise<Candidate[]> {
  const out: Candidate[] = []
  for (const db of dbs) {
    const rows = await s.query(
      `SELECT t.TABLE_NAME, t.ROW_FORMAT FROM information_schema.TABLES t
       WHERE t.TABLE_SCHEMA = ? AND t.TABLE_TYPE = 'BASE TABLE' AND t.ENGINE = 'InnoDB'
         AND t.CREATE_OPTIONS NOT LIKE '%partitioned%'
         AND NOT EXISTS (SELECT 1 FROM information_schema.STATISTICS i
           WHERE i.TABLE_SCHEMA = t.TABLE_SCHEMA AND i.TABLE_NAME = t.TABLE_NAME
             AND i.INDEX_TYPE = 'FULLTEXT')
       ORDER BY t.TABLE_NAME`,
      [db],
    )
    const kinds = new Map((await listTables(s, db)).map((t) => [t.name, t.kind]))
    for (const r of rows) {
      const name = cellText(r[0])
      if (!/^[A-Za-z0-9_]+$/.test(db) || !/^[A-Za-z0-9_]+$/.test(name)) continue
      if (kinds.get(name) !== 'table' || !takesTable(source, db, name)) continue
      out.push({
        db,
        name,
        rowFormat: cellText(r[1]),
        createSql: await showCreateTable(s, db, name),
      })
    }
  }
  return out
}

async function captureRest(
  source: MysqlSource,
  dbs: readonly string[],
  physical: readonly Candidate[],
  tree: TreeWriter,
  ctx: DriverContext,
  service: string,
): Promise<MysqlCaptureResult> {
  const rest: MysqlSource = {
    ...source,
    databases: dbs,
    exclude: [...source.exclude, ...physical.map((c) => `${c.db}.${c.name}`)],
  }
  // Spreading drops the redaction of the source's toJSON; the capture never logs the source
  // object itself, only describeMysqlSource(), which has no password.
  const c = new MysqlCapture(rest, tree, ctx, { service })
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

async function storeFile(
  tree: TreeWriter,
  from: string,
  to: string,
  ctx: DriverContext,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<FileDigest> {
  const hash = createHash('sha256')
  async function* read(): AsyncGenerator<Uint8Array> {
    for await (const chunk of createReadStream(from, { highWaterMark: 1 << 20, signal })) {
      const b = chunk as Buffer
      hash.update(b)
      onBytes(b.length)
      yield b
    }
  }
  const { size } = await tree.writeFile(to, read(), { signal, mtime: ctx.now() })
  return { size, sha256: hash.digest('hex') }
}

async function writeText(
  tree: TreeWriter,
  path: string,
  text: string,
  ctx: DriverContext,
  signal: AbortSignal,
): Promise<void> {
  async function* once(): AsyncGenerator<Uint8Array> {
    yield Buffer.from(text, 'utf8')
  }
  await tree.writeFile(path, once(), { signal, mtime: ctx.now() })
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

async function directoryBytes(dir: string): Promise<number> {
  let n = 0
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += (await stat(join(e.parentPath, e.name))).size
  return n
}
