import { statfs } from 'node:fs/promises'
import { CofferError, RefusedError } from '../../../errors.js'
import { forEachLimit } from '../../../lib/index.js'
import type { DriverContext } from '../../ports.js'
import { quoteIdent, quoteString } from '../names.js'
import { loadDataSql, textInputColumns } from '../row-format.js'
import { listTables } from '../schema-reader.js'
import type { MysqlSession } from '../session.js'
import { retryingDeadlocks } from '../deadlock-retry.js'
import { SessionPool } from '../session-pool.js'
import { newCount, partBytes, tableHash, tableReadOf } from '../table-parts.js'
import type { PhysicalTableEntry } from './physical-entry.js'
import type { SelectedDatabase } from './physical-selection.js'
import { PRIVATE_SERVER_BYTES, PrivateServer } from './private-server.js'
import { importTablespaces, restoreSettings, type ImportSource } from './tablespace-import.js'

/** Tables of one database restored through the private server, and why. */
export interface FallbackReason {
  /** A clause for the activity log: why these tables could not be imported into the target. */
  readonly reason: string
  readonly tables: readonly string[]
}

/**
 * The private server of one restore (private-server.ts), started when the first table needs
 * it and shared by every database of the restore. `stop` kills it and removes its scratch
 * directory; the restore calls it when every database is staged and again on any failure.
 */
export class LogicalFallback {
  private server: Promise<PrivateServer> | undefined

  constructor(
    private readonly opts: {
      readonly mariadbd?: string
      readonly innodbPageSize: number
      readonly scratchParent: string
      readonly connections: number
    },
  ) {}

  /**
   * The running private server; started on the first call. Before it starts, refuses
   * (`no_space`) when the scratch directory's filesystem lacks room for `bytes` of
   * tablespaces plus the server's own files.
   */
  async running(bytes: number, ctx: DriverContext): Promise<PrivateServer> {
    if (!this.server) {
      await checkScratchSpace(this.opts.scratchParent, bytes + PRIVATE_SERVER_BYTES)
      this.server = PrivateServer.start({ ...this.opts, signal: ctx.signal, log: ctx.log }).then(
        async (server) => {
          for (const s of server.sessions) await restoreSettings(s)
          return server
        },
      )
    } else await checkScratchSpace(this.opts.scratchParent, bytes)
    return this.server
  }

  /** Stops the private server if one was started; idempotent. */
  async stop(): Promise<void> {
    const server = await this.server?.catch(() => undefined)
    await server?.stop()
  }
}

/**
 * Restores `tables` of the snapshot's database `sel` logically (docs/PHYSICAL.md, "Logical
 * fallback"): their tablespaces are imported into the private server exactly as into a
 * target (importTablespaces), and their rows stream from it into the tables of the target's
 * staging database `stage` (created from their definitions, empty) through the logical
 * restore's path: each part of the snapshot's content hash read in key order and encoded as
 * a data file (partBytes), `LOAD DATA` on the target. The parts are hashed on the way and
 * the table's hash must equal the one recorded at capture, when the snapshot has one; the
 * row count loaded must equal the rows read. Then the database is dropped from the private
 * server. Rejects with `restore_failed` when the private server cannot import a table either
 * or a hash differs; the target's staging database is the caller's to drop.
 */
export async function restoreThroughPrivateServer(
  source: ImportSource,
  sel: SelectedDatabase,
  tables: readonly PhysicalTableEntry[],
  stage: string,
  targetSessions: readonly MysqlSession[],
  fallback: LogicalFallback,
  ctx: DriverContext,
  onBytes: (n: number) => void,
): Promise<void> {
  const bytes = tables.reduce((n, t) => n + t.ibd.size + t.cfg.size, 0)
  const server = await fallback.running(bytes, ctx)
  const { logical } = sel
  const db = logical.name
  const main = server.sessions[0]!
  await main.query(
    `CREATE DATABASE ${quoteIdent(db)} CHARACTER SET ${quoteString(logical.characterSet)} COLLATE ${quoteString(logical.collation)}`,
  )
  try {
    await main.query(`USE ${quoteIdent(db)}`)
    for (const t of tables)
      await main.query(withRowFormat(source.creates.get(t.name) ?? '', t.rowFormat))
    const refused = await importTablespaces(
      source,
      tables,
      { sessions: server.sessions, datadir: server.datadir, db },
      ctx.signal,
      onBytes,
    )
    for (const [name, message] of refused)
      throw new CofferError(
        'restore_failed',
        `The tablespace of ${db}.${name} does not import into a private MariaDB ${server.version} server either: ${message}`,
      )
    const reads = new Map((await listTables(main, db)).map((t) => [t.name, tableReadOf(t)]))
    const textInput = new Map(
      (await listTables(targetSessions[0]!, stage)).map((t) => [
        t.name,
        textInputColumns(t.columns),
      ]),
    )
    const parts = tables.flatMap((t) =>
      (t.content?.ranges ?? [{}]).map((range, i) => ({ t, range, i })),
    )
    const hashes = new Map(tables.map((t) => [t.name, [] as { sha256: string }[]]))
    const from = new SessionPool(server.sessions)
    const to = new SessionPool(targetSessions)
    await forEachLimit(
      parts,
      Math.min(server.sessions.length, targetSessions.length),
      async ({ t, range, i }, signal) => {
        const read = reads.get(t.name)!
        let count = newCount()
        const loaded = await retryingDeadlocks(`${db}.${t.name} (part ${i})`, ctx.log, () => {
          // A load rolled back by a deadlock reads its rows again: count and hash afresh.
          count = newCount()
          return from.use((ps) =>
            to.use((ts) =>
              ts.load(
                loadDataSql(
                  stage,
                  t.name,
                  read.columns.map((c) => c.name),
                  textInput.get(t.name),
                ),
                partBytes(ps, read, range, count, signal, onBytes),
              ),
            ),
          )
        })
        if (loaded !== count.rows)
          throw new CofferError(
            'restore_failed',
            `Loading ${db}.${t.name} from its tablespace gave ${loaded} rows where ${count.rows} were read.`,
          )
        hashes.get(t.name)![i] = { sha256: count.sha256 }
      },
      ctx.signal,
    )
    for (const t of tables)
      if (t.content && tableHash(hashes.get(t.name)!) !== t.content.sha256)
        throw new CofferError(
          'restore_failed',
          `The rows of ${db}.${t.name} read from its tablespace do not have the content hash recorded at capture; the snapshot's files may be damaged.`,
        )
  } finally {
    // Frees the scratch directory as soon as possible; the server goes at the end anyway.
    await main.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)}`).catch(() => undefined)
  }
}

/**
 * A definition for the private server with its captured row format made explicit: a table
 * created without ROW_FORMAT takes the server's `innodb_default_row_format`, and the
 * private server's (`--no-defaults`: dynamic) need not be the one the tablespace was
 * written with. Only the private server sees this text.
 */
function withRowFormat(createSql: string, rowFormat: string): string {
  const options = createSql.slice(createSql.lastIndexOf(')'))
  if (/ ROW_FORMAT=/i.test(options) || !/^[A-Za-z]+$/.test(rowFormat)) return createSql
  return `${createSql} ROW_FORMAT=${rowFormat.toUpperCase()}`
}

/** Refuses when `dir`'s filesystem has less than `bytes` free, plus a tenth. */
async function checkScratchSpace(dir: string, bytes: number): Promise<void> {
  const fs = await statfs(dir)
  const free = Number(fs.bavail) * Number(fs.bsize)
  const need = Math.ceil(bytes * 1.1)
  if (free < need)
    throw new RefusedError(
      'no_space',
      `The directory ${dir} for the private MariaDB server of the logical fallback has ${free} bytes free; it needs about ${need}. Nothing was changed.`,
    )
}
