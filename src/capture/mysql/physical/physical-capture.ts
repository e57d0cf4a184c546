import { existsSync, readdirSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CofferError } from '../../../errors.js'
import type { DriverContext, TreeReader, TreeWriter } from '../../ports.js'
import { MysqlCapture, type MysqlCaptureResult } from '../mysql-capture.js'
import { describeMysqlSource, takesDatabase, type MysqlSource } from '../mysql-source.js'
import { listDatabases } from '../schema-reader.js'
import { openSession, serverMessage, type MysqlSession } from '../session.js'
import type { TableFingerprint } from '../table-fingerprint.js'
import { hashTableContents } from './content-hash.js'
import { parentContents } from './parent-contents.js'
import { Mariabackup, mariabackupVersion } from './mariabackup.js'
import type { PhysicalServiceEntry, TableContent } from './physical-entry.js'
import { physicalTables, rereadDefinitions, type PhysicalTable } from './physical-tables.js'
import { readServerFacts, type ServerFacts } from './server-facts.js'
import {
  storeTablespaces,
  writeTableLists,
  writeText,
  type StoredTablespaces,
} from './tablespace-store.js'

export interface PhysicalCaptureOptions {
  /** The service's name in the tree (`services/<service>/`). Default `mysql`. */
  readonly service?: string
  /**
   * Where the backup is staged: a new directory is made inside. It must be on the server's
   * filesystem with room for the selected databases' files, the system tablespace and the
   * redo log (docs/PHYSICAL.md, "Disk space"). Default: the parent of the data directory.
   */
  readonly stagingParent?: string
  /**
   * No hold: the tablespaces stay at the hot backup's own point and the rest is read from
   * the logical driver's live snapshot transaction, a moment later. Default false.
   */
  readonly live?: boolean
  /**
   * The parent snapshot's tree: the content hashes of tables the server vouches are
   * unchanged since it are taken from it instead of read (parent-contents.ts).
   */
  readonly parent?: TreeReader
}

export interface PhysicalCaptureResult {
  readonly service: string
  readonly serverVersion: string
  readonly innodbPageSize: number
  /** `db.table` of the tables stored as tablespace files. */
  readonly physical: readonly string[]
  /** `db.table` of the tables stored logically (other engines, partitions, full-text, …). */
  readonly logical: readonly string[]
  /**
   * `db.table` of InnoDB tables that mariabackup left out of its copy (a tablespace
   * discarded and imported since the server's last checkpoint, as a physical restore does),
   * stored logically instead; also in `logical`.
   */
  readonly skipped: readonly string[]
  /**
   * The physical tables as stored: estimated rows (the server's), bytes, `.ibd` digest and
   * the rows' content hash at the snapshot's point (absent when live).
   */
  readonly tables: readonly {
    readonly db: string
    readonly name: string
    readonly estimatedRows: number
    readonly bytes: number
    readonly ibdSha256: string
    readonly contentSha256?: string
  }[]
  readonly physicalBytes: number
  /** Bytes the staging directory held at its largest (after `--prepare`). */
  readonly stagingBytes: number
  /** The hot full backup, before the hold. */
  readonly backupMs: number
  /** The incremental backup inside the hold (0 when live). */
  readonly incrementalMs: number
  readonly prepareMs: number
  /**
   * Hashing the physical tables' rows in the snapshot transactions (0 when live); it runs
   * beside the prepare, so the capture takes longer only by what exceeds the prepare.
   */
  readonly hashMs: number
  /** Physical tables whose content hash came from the parent snapshot, unread. */
  readonly hashesReused: number
  readonly storeMs: number
  /** The logical capture of the other tables and of every view, routine, trigger, event. */
  readonly logicalResult: MysqlCaptureResult
}

/** What `prepare` found and made; everything later steps need. */
interface Prepared {
  readonly session: MysqlSession
  readonly facts: ServerFacts
  readonly dbs: readonly string[]
  readonly tables: readonly PhysicalTable[]
  readonly logical: MysqlCapture
  readonly mariabackup: Mariabackup
  readonly work: string
}

/**
 * Captures databases physically (docs/PHYSICAL.md) in the steps of MysqlCapture, so that an
 * environment snapshot holds the tablespaces, the other tables and the mounts at one moment:
 *
 *   prepare   lists the physical tables (physicalTables), runs the hot full
 *             `mariabackup --backup` of the selected databases into a staging directory
 *             while the site runs, and prepares the logical driver for everything else
 *   hold      the logical driver's global read lock (skipped when live)
 *   final     inside the hold: `mariabackup --backup --no-lock --incremental-basedir=<full>`
 *             copies the pages changed since the full backup and the redo log (no commit
 *             can happen under the lock, so it ends at the hold's point), while the logical
 *             driver opens its snapshot transactions at the same point
 *   release   the lock goes
 *   finish    `--prepare` the full backup, apply the incremental, `--prepare --export`;
 *             meanwhile each physical table's rows are hashed in the logical driver's
 *             snapshot transactions (the delta restore's content hash); every physical table's `.ibd` and `.cfg` streamed into
 *             `services/<service>/<db>/physical/` with its definition; the logical driver
 *             dumps the rest (views, triggers, routines and events of every database,
 *             data of the other tables); `physical.json` written
 *   abort     drops every connection and the staging directory (safe at any step)
 *
 * Each step is called once, in order. Nothing is committed here; the staging directory is
 * always removed by `finish` or `abort`. A table whose definition changed during the
 * capture rejects it (`capture_failed`).
 */
export class PhysicalCapture {
  readonly service: string
  private prepared: Prepared | undefined
  private backupMs = 0
  private readonly skipped: string[] = []
  private incrementalMs = 0
  private readonly live: boolean

  constructor(
    private readonly source: MysqlSource,
    private readonly tree: TreeWriter,
    private readonly ctx: DriverContext,
    private readonly opts: PhysicalCaptureOptions = {},
  ) {
    this.service = opts.service ?? 'mysql'
    this.live = opts.live ?? false
  }

  private get ready(): Prepared {
    if (!this.prepared)
      throw new CofferError('capture_failed', 'The physical MySQL capture was not prepared.')
    return this.prepared
  }

  async prepare(): Promise<void> {
    const session = await openSession(this.source)
    let work: string | undefined
    let mariabackup: Mariabackup | undefined
    try {
      const facts = await readServerFacts(session)
      const dbs = (await listDatabases(session))
        .map((d) => d.name)
        .filter((d) => takesDatabase(this.source, d))
      const missing = this.source.databases.filter((d) => !dbs.includes(d))
      if (missing.length > 0)
        throw new CofferError(
          'capture_failed',
          `The database ${missing.join(', ')} does not exist on ${describeMysqlSource(this.source)}.`,
        )
      const candidates = await physicalTables(session, this.source, dbs)
      work = await mkdtemp(
        join(this.opts.stagingParent ?? join(facts.datadir, '..'), 'coffer-physical-'),
      )
      mariabackup = await Mariabackup.open(this.source, work)
      this.ctx.progress({ bytesDone: 0, itemsDone: 0, phase: 'backup' })
      this.backupMs = await mariabackup.backup(dbs, join(work, 'full'), this.ctx.signal)
      // mariabackup 10.11 leaves out, with only a warning, a tablespace whose DISCARD is in
      // the redo log it copies ("we assume the table was dropped"): what a physical restore
      // did since the server's last checkpoint. Such tables are captured logically.
      const tables: PhysicalTable[] = []
      for (const t of candidates)
        if (backedUp(join(work, 'full', t.db), t.name, ['.ibd', '.new'])) tables.push(t)
        else this.skipped.push(`${t.db}.${t.name}`)
      if (this.skipped.length > 0)
        this.ctx.log.warn(
          { tables: this.skipped },
          'mariabackup left tables out: captured logically',
        )
      // Spreading drops the redaction of the source's toJSON; the capture never logs the
      // source object itself, only describeMysqlSource(), which has no password.
      const rest: MysqlSource = {
        ...this.source,
        databases: dbs,
        exclude: [...this.source.exclude, ...tables.map((t) => `${t.db}.${t.name}`)],
      }
      const logical = new MysqlCapture(rest, this.tree, this.ctx, {
        service: this.service,
        live: this.live,
      })
      // From here on `abort` cleans up.
      this.prepared = { session, facts, dbs, tables, logical, mariabackup, work }
      await logical.prepare()
    } catch (e) {
      if (!this.prepared) {
        session.destroy()
        await mariabackup?.close()
        if (work) await rm(work, { recursive: true, force: true })
      }
      throw this.failure(e)
    }
  }

  async hold(): Promise<void> {
    await this.ready.logical.hold()
  }

  async final(): Promise<void> {
    const p = this.ready
    const incremental = async (): Promise<void> => {
      if (this.live) return
      try {
        this.incrementalMs = await p.mariabackup.backup(
          p.dbs,
          join(p.work, 'incremental'),
          this.ctx.signal,
          { incrementalBase: join(p.work, 'full'), noLock: true },
        )
      } catch (e) {
        throw this.failure(e)
      }
    }
    // Both inside the hold: the pause is the longer of them, not their sum.
    await settledBoth(incremental(), p.logical.final())
  }

  async release(): Promise<void> {
    await this.ready.logical.release()
  }

  async finish(): Promise<PhysicalCaptureResult> {
    const p = this.ready
    try {
      if (!this.live)
        for (const t of p.tables)
          if (!backedUp(join(p.work, 'incremental', t.db), t.name, ['.ibd.delta', '.new']))
            throw new CofferError(
              'capture_failed',
              `The tablespace of ${t.db}.${t.name} was replaced during the physical capture; capture again.`,
            )
      this.ctx.progress({ bytesDone: 0, itemsDone: 0, phase: 'prepare' })
      // The hashes read the server; the prepare and then the store the staging directory:
      // side by side, so the store does not wait for the hashes (only the table lists do).
      const [{ stored, prepareMs, stagingBytes, storeMs }, hashed] = await settledBoth(
        this.prepareAndStore(p),
        this.hashContents(p),
      )
      const tables = stored.tables
      const entries = await writeTableLists(
        this.tree,
        this.service,
        p.dbs,
        stored.entries,
        hashed.contents,
        this.fingerprints(p),
        this.ctx,
      )
      const logicalResult = await p.logical.finish()
      // mariabackup needs RELOAD, which is also all FLUSH TABLES WITH READ LOCK needs: a
      // logical capture that fell back to one connection means the incremental copy ran
      // without the lock it relies on (--no-lock).
      if (!this.live && logicalResult.mode === 'single-connection')
        throw new CofferError(
          'capture_failed',
          `The physical MySQL capture of ${describeMysqlSource(this.source)} could not hold the global read lock, so its tablespaces are not at the snapshot's point.`,
        )
      const serviceEntry: PhysicalServiceEntry = {
        version: 1,
        mode: 'physical',
        serverVersion: p.facts.version,
        innodbPageSize: p.facts.innodbPageSize,
        tool: await mariabackupVersion(this.ctx.signal),
        databases: p.dbs,
      }
      await writeText(
        this.tree,
        `services/${this.service}/physical.json`,
        JSON.stringify(serviceEntry, null, 2) + '\n',
        this.ctx,
        this.ctx.signal,
      )
      const digests = new Map(
        entries.flatMap((d) => d.tables.map((t) => [`${d.name}.${t.name}`, t.ibd])),
      )
      const result: PhysicalCaptureResult = {
        service: this.service,
        serverVersion: p.facts.version,
        innodbPageSize: p.facts.innodbPageSize,
        physical: tables.map((t) => `${t.db}.${t.name}`),
        logical: logicalResult.databases.flatMap((d) => d.tables.map((t) => `${d.name}.${t.name}`)),
        skipped: this.skipped,
        tables: tables.map((t) => {
          const ibd = digests.get(`${t.db}.${t.name}`)
          const content = hashed.contents.get(`${t.db}.${t.name}`)
          return {
            db: t.db,
            name: t.name,
            estimatedRows: t.estimatedRows,
            bytes: ibd?.size ?? 0,
            ibdSha256: ibd?.sha256 ?? '',
            ...(content ? { contentSha256: content.sha256 } : {}),
          }
        }),
        physicalBytes: stored.bytes,
        stagingBytes,
        backupMs: this.backupMs,
        incrementalMs: this.incrementalMs,
        prepareMs,
        hashMs: hashed.ms,
        hashesReused: hashed.reused,
        storeMs,
        logicalResult,
      }
      this.ctx.log.info(
        {
          physical: result.physical.length,
          logical: result.logical.length,
          backupMs: this.backupMs,
          incrementalMs: this.incrementalMs,
          prepareMs,
          hashMs: hashed.ms,
          hashesReused: hashed.reused,
          storeMs,
        },
        'physical capture done',
      )
      return result
    } catch (e) {
      throw this.failure(e)
    } finally {
      await this.abort()
    }
  }

  /**
   * Prepares the backup for export (applying the incremental copy), checks that no
   * tablespace was lost, and stores the tablespaces with their definitions read again.
   */
  private async prepareAndStore(p: Prepared): Promise<{
    stored: StoredTablespaces
    prepareMs: number
    stagingBytes: number
    storeMs: number
  }> {
    const prepareMs = await p.mariabackup.prepareForExport(
      join(p.work, 'full'),
      this.ctx.signal,
      this.live ? undefined : join(p.work, 'incremental'),
    )
    const lost: string[] = []
    for (const t of p.tables)
      if (!backedUp(join(p.work, 'full', t.db), t.name, ['.ibd'])) lost.push(`${t.db}.${t.name}`)
    if (lost.length > 0)
      throw new CofferError(
        'capture_failed',
        `The physical backup lost the tablespaces of ${lost.join(', ')} when it was prepared: mariabackup takes a tablespace imported since the server's last InnoDB checkpoint (a physical restore imports them) for a dropped table. Take a logical snapshot, or capture physically again after the server's next checkpoint.`,
      )
    const stagingBytes = directoryBytes(p.work)
    const started = performance.now()
    const stored = await storeTablespaces(
      this.tree,
      this.service,
      join(p.work, 'full'),
      await rereadDefinitions(p.session, p.tables),
      this.ctx,
    )
    return { stored, prepareMs, stagingBytes, storeMs: Math.round(performance.now() - started) }
  }

  /**
   * Each physical table's content hash at the snapshot's point: from the parent snapshot
   * when the server vouches the table is unchanged since (parent-contents.ts), else read in
   * the logical driver's snapshot transactions (opened inside the hold, with the incremental
   * copy: the tablespaces' point). None when live: the tablespaces are then at the full
   * copy's point, not the transaction's, and a hash of other rows than the stored ones would
   * keep a table the restore must import.
   */
  private async hashContents(
    p: Prepared,
  ): Promise<{ contents: ReadonlyMap<string, TableContent>; ms: number; reused: number }> {
    if (this.live) return { contents: new Map(), ms: 0, reused: 0 }
    const started = performance.now()
    const reused = this.opts.parent
      ? await parentContents(
          this.opts.parent,
          this.service,
          p.tables,
          (db, name) => p.logical.fingerprintOf(db, name),
          this.ctx.signal,
          this.ctx.log,
        )
      : new Map<string, TableContent>()
    const read = await hashTableContents(
      p.logical.snapshotSessions,
      p.tables.filter((t) => !reused.has(`${t.db}.${t.name}`)),
      this.ctx.signal,
    )
    return {
      contents: new Map([...reused, ...read]),
      ms: Math.round(performance.now() - started),
      reused: reused.size,
    }
  }

  /** The fingerprints the server vouched for of the physical tables, keyed `db.table`. */
  private fingerprints(p: Prepared): Map<string, TableFingerprint> {
    const out = new Map<string, TableFingerprint>()
    for (const t of p.tables) {
      const fp = p.logical.fingerprintOf(t.db, t.name)
      if (fp) out.set(`${t.db}.${t.name}`, fp)
    }
    return out
  }

  /** Drops every connection and the staging directory. Safe to call at any step, twice. */
  async abort(): Promise<void> {
    const p = this.prepared
    if (!p) return
    await p.logical.abort()
    p.session.destroy()
    await p.mariabackup.close()
    await rm(p.work, { recursive: true, force: true })
  }

  private failure(e: unknown): unknown {
    if (this.ctx.signal.aborted) return this.ctx.signal.reason
    if (e instanceof CofferError) return e
    return new CofferError(
      'capture_failed',
      `The physical MySQL capture of ${describeMysqlSource(this.source)} failed: ${serverMessage(e)}.`,
      { cause: e },
    )
  }
}

/**
 * Captures in one go (prepare, hold, final, release, finish; PhysicalCapture): every table at
 * one point, the hold's. On failure everything is dropped and the error rethrown. The caller
 * commits the snapshot afterwards.
 *
 * @example
 * const writer = await SnapshotWriter.start(repo, { signal })
 * await capturePhysical(parseMysqlUrl('mysql://root@127.0.0.1/shop'), writer, ctx)
 * await writer.commit({ paths: ['/services/mysql'] })
 */
export async function capturePhysical(
  source: MysqlSource,
  tree: TreeWriter,
  ctx: DriverContext,
  opts: PhysicalCaptureOptions = {},
): Promise<PhysicalCaptureResult> {
  const c = new PhysicalCapture(source, tree, ctx, opts)
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

/** Whether a backup directory holds table `name`'s tablespace under one of its names. */
/**
 * Whether the backup in `dir` holds table `name` (a file of one of `suffixes`). Synchronous,
 * as directoryBytes: these run beside the content hashes, which keep the event loop busy, and
 * a stat awaited there waited for a whole turn of it.
 */
function backedUp(dir: string, name: string, suffixes: readonly string[]): boolean {
  return suffixes.some((suffix) => existsSync(join(dir, name + suffix)))
}

/**
 * The bytes of the files under `dir`. Synchronous (a thousand stats take milliseconds): run
 * beside the content hashes, one awaited stat per file took 3.9 s at scale 1 of the shop
 * data set, each waiting for a turn of an event loop busy with rows.
 */
function directoryBytes(dir: string): number {
  let n = 0
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size
  return n
}

/** Both results once both have settled; the first failure (in argument order) otherwise. */
async function settledBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b])
  if (ra.status === 'rejected') throw ra.reason
  if (rb.status === 'rejected') throw rb.reason
  return [ra.value, rb.value]
}
