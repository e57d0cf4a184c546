import { randomBytes } from 'node:crypto'
import { statfs } from 'node:fs/promises'
import { CofferError, InvalidInputError, messageOf, RefusedError } from '../../errors.js'
import { counted, forEachLimit } from '../../lib/index.js'
import type { DriverContext, TreeReader } from '../ports.js'
import {
  parseDatabaseEntry,
  type DatabaseEntry,
  type PartEntry,
  type TableEntry,
} from './database-entry.js'
import { describeMysqlSource, type MysqlSource } from './mysql-source.js'
import { fileNameOf, identifierOf, qualified, quoteIdent, sideDatabases } from './names.js'
import { databaseOptions, databaseSwitch, runSwitch } from './database-switch.js'
import { PatchesAhead } from './patch-ahead.js'
import { probeSwitchLocks } from './switch-lock-probe.js'
import { rehearseObjects } from './object-rehearsal.js'
import {
  commitJournal,
  recoverJournals,
  lockRestoreTargets,
  releaseRestoreLocks,
  writeJournal,
} from './restore-journal.js'
import { renameDatabase } from './object-sql.js'
import { loadDataSql, textInputColumns } from './row-format.js'
import { remedyOf } from './restore-remedy.js'
import { INSERT_HISTORY } from './system-versioning.js'
import { cleanupStaging, dropDatabases } from './stage-cleanup.js'
import { listTables } from './schema-reader.js'
import { cellText, openSession, openSessions, serverMessage, type MysqlSession } from './session.js'
import { retryingDeadlocks } from './deadlock-retry.js'
import { SessionPool } from './session-pool.js'
import { liveFingerprints, serverIdentity, type ServerIdentity } from './table-fingerprint.js'
import { compareTables } from './table-compare.js'
import {
  patchSource,
  stagePatches,
  type PatchSource,
  type PatchSwitch,
  type TablePatch,
} from './table-patch.js'

/** The phases of a restore, in order; `onPhase` is told each one as it starts. */
export const RESTORE_PHASES = ['plan', 'stage', 'load', 'switch', 'objects', 'cleanup'] as const
export type RestorePhase = (typeof RESTORE_PHASES)[number]

export interface MysqlRestoreOptions {
  /** The service's name in the tree (`services/<service>/`). Default `mysql`. */
  readonly service?: string
  /** Restore database OLD under the name NEW. */
  readonly databaseMap?: Readonly<Record<string, string>>
  /** Only these: `db` or `db/table` (snapshot names). Default: every database. */
  readonly include?: readonly string[]
  /** Reload every table even when its content already matches. */
  readonly full?: boolean
  /**
   * Patch a table with the snapshot's definition and few rows different in place, rewriting
   * only those rows (table-patch.ts). Default true; false reloads such tables whole.
   */
  readonly patch?: boolean
  /**
   * Apply the patches ahead of the switch, on a connection of their own, and only commit
   * them inside it (patch-ahead.ts). Default true (with two connections or more); false
   * applies them inside the switch.
   */
  readonly patchAhead?: boolean
  readonly onPhase?: (phase: RestorePhase, db: string) => void
  /**
   * The barrier of an environment-wide restore: called once, when every selected database
   * has been staged (its tables loaded and ready) and before the first RENAME of any of them.
   * If it rejects, nothing is switched, the staging databases are dropped and the restore
   * rejects with its error. The restore locks of the targets are held while it runs. It is
   * given the switch journal's database (restore-journal.ts; none when nothing is switched):
   * once it resolves nothing is undone, and a caller that recorded the journal may commit it
   * after a crash (`recoverMysqlRestores` with `commit`).
   */
  readonly beforeSwitch?: (journal: string | undefined) => Promise<void>
  /**
   * Called (and awaited) once every database is switched in, before the side databases
   * (trash, staging, journal) are dropped: an environment restore switches its other parts
   * right after the databases and releases its hold while the drops, which can take seconds
   * for large old tables, run.
   */
  readonly onSwitched?: () => void | Promise<void>
  /**
   * Called once every database is planned, before anything is created on the server (the
   * plan only reads): a command confirms its repository lock here, so that the plan runs
   * while the lock's second look is awaited.
   */
  readonly beforeStage?: () => Promise<void>
  /**
   * Room the staging copy needs on the server's datadir filesystem, as a multiple of the
   * snapshot's data bytes of the reloaded tables (default STAGING_SPACE_FACTOR). The restore
   * refuses before changing anything when the filesystem has less free.
   */
  readonly spaceFactor?: number
}

export interface MysqlRestorePlan {
  readonly database: string
  readonly target: string
  /** Tables loaded into staging and switched in. */
  readonly reload: readonly string[]
  /**
   * Tables with the snapshot's definition and few rows different: patched in place, only
   * those rows rewritten (table-patch.ts).
   */
  readonly patch: readonly string[]
  /** Rows the patches write or delete. */
  readonly patchRows: number
  /** Tables already equal to the snapshot: kept as they are. */
  readonly keep: readonly string[]
  /**
   * Of `keep` (before foreign keys grew the reload), those known equal without reading their
   * rows: the server vouched that they are unchanged since the snapshot (table-fingerprint.ts).
   */
  readonly unread: readonly string[]
  /** Target tables the snapshot does not have: moved out and dropped. */
  readonly drop: readonly string[]
  /** Whether views, routines and events of the database are replaced too. */
  readonly wholeDatabase: boolean
}

export interface MysqlRestoreResult {
  readonly databases: readonly (MysqlRestorePlan & {
    readonly rows: number
    readonly bytes: number
    readonly switchMs: number
  })[]
}

/**
 * Restores databases of a snapshot into a server, atomically for all of them together
 * (docs/MYSQL.md, "Restore"). First every selected database is staged: the tables that differ
 * are loaded into `<target>__coffer_stage_<id>`. Then `beforeSwitch` runs (the environment's
 * barrier), and then the databases are switched back to back: per database one RENAME TABLE
 * moves the target's old tables into `<target>__coffer_trash_<id>` and the staged ones in,
 * after which views, routines, triggers and events are created in the target; last, the side
 * databases are dropped. A failure or kill before the first RENAME leaves every target as it
 * was; the staging databases are dropped then, or by the next restore of the same target
 * (`cleanupStaging`).
 *
 * Concurrency: restores of one target exclude each other through the server lock
 * `coffer_restore:<target>`; a second one is refused.
 */
export async function restoreMysql(
  tree: TreeReader,
  target: MysqlSource,
  ctx: DriverContext,
  opts: MysqlRestoreOptions = {},
): Promise<MysqlRestoreResult> {
  const entries = await readEntries(tree, opts, ctx.signal)
  const targets = entries.map((e) => opts.databaseMap?.[e.entry.name] ?? e.entry.name)
  const twice = targets.find((t, i) => targets.indexOf(t) !== i)
  if (twice !== undefined)
    throw new InvalidInputError(
      'database-map',
      `Two databases of the snapshot would be restored into ${twice}.`,
    )
  const sessions: MysqlSession[] = []
  const locks: string[] = []
  const staged: StagedDatabase[] = []
  // Shared by the restore's staging, trash and journal databases (restore-journal.ts).
  const id = randomBytes(4).toString('hex')
  let journal: string | undefined
  let switching = false
  let barrierFailed = false
  let ahead: PatchesAhead | undefined
  try {
    sessions.push(...(await openSessions(target, target.connections)))
    for (const s of sessions) await loadSettings(s)
    const main = sessions[0]!
    await lockRestoreTargets(main, targets, locks)
    const plans: MysqlRestorePlan[] = []
    const patches = entries.map((e) =>
      opts.patch === false
        ? undefined
        : patchSource(
            tree,
            `services/${opts.service ?? 'mysql'}/${fileNameOf(e.entry.name)}`,
            e.entry,
          ),
    )
    for (const [i, selected] of entries.entries()) {
      await recoverJournals(main, targets[i]!, ctx.log, (_, names) => dropDatabases(main, names))
      await cleanupStaging(main, targets[i]!, ctx.log)
      opts.onPhase?.('plan', selected.entry.name)
      ctx.signal.throwIfAborted()
      plans.push(
        await planDatabase(sessions, selected, targets[i]!, ctx, {
          ...opts,
          ...(patches[i] ? { patches: patches[i] } : {}),
        }),
      )
    }
    const patchBytes = patches.reduce(
      (n, p) => n + [...(p?.found.values() ?? [])].reduce((m, x) => m + x.diff.bytes, 0),
      0,
    )
    await checkSpace(main, target, entries, plans, patchBytes, ctx, opts)
    await opts.beforeStage?.()
    ctx.signal.throwIfAborted()
    for (const [i, selected] of entries.entries())
      staged.push(
        await stageDatabase(
          tree,
          selected,
          targets[i]!,
          plans[i]!,
          sessions,
          id,
          staged,
          ctx,
          opts,
          describeMysqlSource(target),
          patches[i]?.found ?? new Map(),
        ),
      )
    ctx.signal.throwIfAborted()
    const switches = staged.map((st) =>
      databaseSwitch(st.selected.entry, {
        to: st.to,
        stage: st.stage,
        trash: st.trash,
        wholeDatabase: st.plan.wholeDatabase,
        reload: st.plan.reload,
        drop: st.plan.drop,
        tables: st.selected.tables.map((t) => t.name),
        ...(st.patches.length > 0 ? { patch: st.patches } : {}),
      }),
    )
    // Before the patches applied ahead take their tables: their transaction holds them (and
    // the tables their foreign keys join) until the switch.
    await probeSwitchLocks(main, switches, ctx.log)
    // On the last connection, idle once the staging is done; the switch runs on the first.
    if (opts.patchAhead !== false && sessions.length > 1)
      ahead = await PatchesAhead.start(sessions.at(-1)!, staged, ctx.log)
    ctx.signal.throwIfAborted()
    if (switches.length > 0) journal = await writeJournal(main, id, switches)
    if (staged[0]) opts.onPhase?.('switch', staged[0].selected.entry.name)
    ctx.signal.throwIfAborted()
    try {
      await opts.beforeSwitch?.(journal)
    } catch (e) {
      barrierFailed = true
      throw e
    }
    // Past the barrier nothing is undone: the caller may have recorded the decision (an
    // environment restore's commit record names the journal). The commit is the point of
    // no return of a restore on its own: a kill from here on is finished by the next one.
    switching = true
    if (journal) await commitJournal(main, journal)
    const applied = (await ahead?.commit()) ?? new Map<string, ReadonlySet<string>>()
    for (const [i, st] of staged.entries()) {
      const name = st.selected.entry.name
      if (i > 0) opts.onPhase?.('switch', name)
      const started = performance.now()
      await runSwitch(main, switches[i]!, () => opts.onPhase?.('objects', name), applied.get(st.to))
      st.switchMs = Math.round(performance.now() - started)
      ctx.log.info(
        { database: st.to, switchMs: st.switchMs, reloaded: st.plan.reload.length },
        'database switched in',
      )
    }
    await opts.onSwitched?.()
    for (const st of staged) {
      opts.onPhase?.('cleanup', st.selected.entry.name)
      await dropDatabases(main, [st.trash, st.stage])
    }
    if (journal) await dropDatabases(main, [journal])
    return {
      databases: staged.map((st) => ({
        ...st.plan,
        rows: st.rows,
        bytes: st.bytes,
        switchMs: st.switchMs,
      })),
    }
  } catch (e) {
    // Before the commit every target is untouched: the staging databases and the journal
    // go. After it, they stay for the next restore to finish the switch.
    await ahead?.rollback()
    if (!switching && sessions[0])
      await dropDatabases(sessions[0], [
        ...staged.map((st) => st.stage),
        ...(journal ? [journal] : []),
      ]).catch(() => undefined)
    if (ctx.signal.aborted) throw ctx.signal.reason
    // The barrier's own error is the caller's to read.
    if (e instanceof CofferError || barrierFailed) throw e
    throw new CofferError(
      'restore_failed',
      `The MySQL restore into ${describeMysqlSource(target)} failed: ${serverMessage(e)}.${remedyOf(e)}${switching ? ' The switch had begun: the next restore into the same databases finishes or undoes it.' : ' Nothing was changed.'}`,
      { cause: e },
    )
  } finally {
    await releaseRestoreLocks(sessions[0], locks)
    for (const s of sessions) s.destroy()
  }
}

/** What a restore would do, without changing anything. */
export async function previewMysqlRestore(
  tree: TreeReader,
  target: MysqlSource,
  ctx: DriverContext,
  opts: MysqlRestoreOptions = {},
): Promise<MysqlRestorePlan[]> {
  const entries = await readEntries(tree, opts, ctx.signal)
  const s = await openSession(target)
  try {
    const plans: MysqlRestorePlan[] = []
    for (const selected of entries)
      plans.push(
        await planDatabase(
          s,
          selected,
          opts.databaseMap?.[selected.entry.name] ?? selected.entry.name,
          ctx,
          opts,
        ),
      )
    return plans
  } finally {
    s.destroy()
  }
}

/** A database of the snapshot chosen for restore, with the CREATE text of its tables. */
interface SelectedDatabase {
  readonly entry: DatabaseEntry
  readonly tables: readonly TableEntry[]
  readonly creates: ReadonlyMap<string, string>
}

/** Stored table definitions read at once by a restore's first step. */
const DEFINITION_READS = 16

async function readEntries(
  tree: TreeReader,
  opts: MysqlRestoreOptions,
  signal: AbortSignal,
): Promise<SelectedDatabase[]> {
  const base = `services/${opts.service ?? 'mysql'}`
  const listed = await tree.list(base, { signal })
  // A physical capture's database.json lists only the tables stored logically: restoring it
  // here would drop the others. It has its own restore (physical/).
  if (listed.some((e) => e.name === 'physical.json' && e.type === 'file'))
    throw new CofferError(
      'restore_failed',
      `The service ${opts.service ?? 'mysql'} in this snapshot was captured physically: restore it in physical mode; nothing was changed.`,
    )
  const dbs = listed.filter((e) => e.type === 'dir').map((e) => identifierOf(e.name))
  const include = opts.include ?? []
  for (const inc of include) {
    const db = inc.split('/')[0]!
    if (!dbs.includes(db))
      throw new InvalidInputError('include', `The snapshot has no database ${db} in ${base}.`)
  }
  for (const from of Object.keys(opts.databaseMap ?? {}))
    if (!dbs.includes(from))
      throw new InvalidInputError('database-map', `The snapshot has no database ${from}.`)
  const out = []
  for (const db of dbs) {
    const mine = include.filter((i) => i.split('/')[0] === db)
    if (include.length > 0 && mine.length === 0) continue
    const path = `${base}/${fileNameOf(db)}/database.json`
    const chunks: Buffer[] = []
    for await (const c of tree.readFile(path, { signal })) chunks.push(Buffer.from(c))
    const entry = parseDatabaseEntry(path, Buffer.concat(chunks).toString('utf8'))
    const only = mine.filter((i) => i.includes('/')).map((i) => i.slice(db.length + 1))
    for (const t of only)
      if (!entry.tables.some((x) => x.name === t))
        throw new InvalidInputError('include', `The snapshot has no table ${db}.${t}.`)
    // Naming the database itself, or nothing of it, takes the whole database.
    const tables =
      only.length > 0 && !mine.includes(db)
        ? entry.tables.filter((t) => only.includes(t.name))
        : entry.tables
    // Several at a time: each read waits for its turn of the event loop, which an environment
    // restore shares with the mounts' staging (one after the other, a database's ten tables
    // took half a second there where they take 30 ms alone). Bounded: a schema may have
    // thousands of tables, each read opening a pack file.
    const creates = new Map<string, string>()
    await forEachLimit(
      tables,
      DEFINITION_READS,
      async (t, sig) => {
        creates.set(t.name, await readText(tree, `${base}/${fileNameOf(db)}/${t.file}.sql`, sig))
      },
      signal,
    )
    out.push({ entry, tables, creates })
  }
  return out
}

async function loadSettings(s: MysqlSession): Promise<void> {
  // The load writes what the snapshot holds: zero dates and 0 in AUTO_INCREMENT columns as
  // they are, no unique, foreign key or CHECK re-validation (the data passed them when it
  // was written).
  await s.query(
    "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO', foreign_key_checks = 0, unique_checks = 0, check_constraint_checks = 0",
  )
  // Not replicating the load needs SUPER or BINLOG ADMIN; without it the load is logged.
  await s.query('SET SESSION sql_log_bin = 0').catch(() => undefined)
}

/** What the delta plan reads of a stored table: kind, content hash, the ranges it covers. */
export type PlannedTable = Pick<TableEntry, 'name' | 'kind' | 'splitColumn' | 'sha256'> &
  Partial<Pick<TableEntry, 'bytes' | 'unchangedSince'>> & {
    readonly parts: readonly Pick<PartEntry, 'from' | 'to'>[]
  }

/**
 * A database to plan: the snapshot's tables (`entry.tables`), the selected ones (`tables`,
 * the same array when the whole database is selected) and their CREATE texts.
 */
export interface PlanInput {
  readonly entry: { readonly name: string; readonly tables: readonly PlannedTable[] }
  readonly tables: readonly PlannedTable[]
  readonly creates: ReadonlyMap<string, string>
}

/**
 * The delta plan of one database (docs/MYSQL.md, "Delta"): a selected table whose live
 * definition and content hash, read in one snapshot transaction on `s`, equal the
 * snapshot's is kept, the others reloaded, grown to whole groups joined by foreign keys;
 * the target's tables the snapshot lacks are dropped when the whole database is selected.
 * Reads only. Shared with the physical restore (physical/physical-plan.ts).
 */
export async function planDatabase(
  sessions: MysqlSession | readonly MysqlSession[],
  { entry, tables, creates }: PlanInput,
  to: string,
  ctx: DriverContext,
  opts: Pick<MysqlRestoreOptions, 'full'> & { readonly patches?: PatchSource },
): Promise<MysqlRestorePlan> {
  const all: readonly MysqlSession[] = 'query' in sessions ? [sessions] : sessions
  const s = all[0]!
  const wholeDatabase = tables === entry.tables
  const exists =
    (await s.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [to]))
      .length > 0
  const current = exists ? await listTables(s, to) : []
  const compared = tables.filter(
    (t) => !opts.full && t.kind === 'table' && current.some((c) => c.name === t.name),
  )
  // Reading every live table is most of a delta restore's planning (table-compare.ts) except
  // the tables the server vouched for at the snapshot point and that still carry its
  // fingerprint: they hold the snapshot's rows, only their definition is compared.
  const vouched = await fingerprintsNow(s, to, compared, ctx)
  const { same, unread, patches } = await compareTables(
    all,
    compared.map((t) => ({
      t,
      create: renameDatabase(creates.get(t.name) ?? '', entry.name, to),
      live: current.find((c) => c.name === t.name)!,
    })),
    to,
    vouched,
    opts.patches,
    ctx.signal,
  )
  if (compared.length > 0)
    ctx.log.info(
      { database: to, compared: compared.length, unchanged: same.size, unread: unread.length },
      'delta plan: tables compared with the snapshot',
    )
  const reload = tables.filter((t) => !same.has(t.name) && !patches.has(t.name)).map((t) => t.name)
  const keep = tables.filter((t) => same.has(t.name)).map((t) => t.name)
  const drop = wholeDatabase
    ? current.map((c) => c.name).filter((n) => !entry.tables.some((t) => t.name === n))
    : []
  // RENAME TABLE carries foreign keys along with the table they reference: a kept table
  // referencing a reloaded one (or referenced by it) would end up pointing into the trash
  // database. Reload whole groups of tables joined by foreign keys, both directions. A
  // patched table stays where it is, like a kept one, so it is reloaded with its group too.
  const edges = [
    ...tables.flatMap((t) =>
      referencedTables(creates.get(t.name) ?? '', entry.name).map((r) => [t.name, r] as const),
    ),
    ...(exists ? await liveForeignKeys(s, to) : []),
  ]
  for (let grown = true; grown;) {
    grown = false
    for (const [a, b] of edges)
      for (const [x, y] of [
        [a, b],
        [b, a],
      ] as const)
        if (reload.includes(x) && (keep.includes(y) || patches.has(y))) {
          if (keep.includes(y)) keep.splice(keep.indexOf(y), 1)
          patches.delete(y)
          reload.push(y)
          grown = true
        }
  }
  const stranded = edges.find(
    ([a, b]) =>
      (reload.includes(a) &&
        current.some((c) => c.name === b) &&
        !tables.some((t) => t.name === b) &&
        !drop.includes(b)) ||
      (reload.includes(b) &&
        current.some((c) => c.name === a) &&
        !tables.some((t) => t.name === a) &&
        !drop.includes(a)),
  )
  if (stranded)
    throw new RefusedError(
      'refused',
      `The tables ${to}.${stranded[0]} and ${to}.${stranded[1]} are joined by a foreign key and only one of them is selected, so restoring it alone would break the key; include both. Nothing was changed.`,
    )
  for (const [name, p] of patches) opts.patches?.found.set(name, p)
  const patch = tables.filter((t) => patches.has(t.name)).map((t) => t.name)
  if (patch.length > 0)
    ctx.log.info(
      {
        database: to,
        tables: patch,
        rows: [...patches.values()].map((p) => p.diff.writeRows + p.diff.deleteRows),
      },
      'delta plan: tables patched in place',
    )
  return {
    database: entry.name,
    target: to,
    reload,
    patch,
    patchRows: [...patches.values()].reduce((n, p) => n + p.diff.writeRows + p.diff.deleteRows, 0),
    keep,
    unread: unread.filter((n) => keep.includes(n)).sort(),
    drop,
    wholeDatabase,
  }
}

/**
 * Tables of database `db` that a stored CREATE TABLE references by foreign key: the server
 * writes `REFERENCES \`t\`` for a table of the same database and `` `db`.`t` `` otherwise.
 */
export function referencedTables(create: string, db: string): string[] {
  const out: string[] = []
  const id = '`((?:[^`]|``)*)`'
  for (const m of create.matchAll(new RegExp(`REFERENCES ${id}(?:\\.${id})?`, 'g'))) {
    const first = m[1]!.replaceAll('``', '`')
    if (m[2] === undefined) out.push(first)
    else if (first === db) out.push(m[2].replaceAll('``', '`'))
  }
  return out
}

/** Foreign keys between tables of `db` on the server: [referencing, referenced] pairs. */
async function liveForeignKeys(
  s: MysqlSession,
  db: string,
): Promise<(readonly [string, string])[]> {
  const rows = await s.query(
    `SELECT TABLE_NAME, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS
     WHERE CONSTRAINT_SCHEMA = ? AND UNIQUE_CONSTRAINT_SCHEMA = ?`,
    [db, db],
  )
  return rows.map((r) => [cellText(r[0]), cellText(r[1])] as const)
}

/**
 * The server's identity and the target's table fingerprints, when some compared table has
 * one to check (else undefined); without the privilege to read them, undefined too (the
 * tables are then read).
 */
async function fingerprintsNow(
  s: MysqlSession,
  to: string,
  compared: readonly PlannedTable[],
  ctx: DriverContext,
): Promise<
  { server: ServerIdentity; live: Awaited<ReturnType<typeof liveFingerprints>> } | undefined
> {
  if (!compared.some((t) => t.unchangedSince)) return undefined
  try {
    return { server: await serverIdentity(s), live: await liveFingerprints(s, to) }
  } catch (e) {
    ctx.log.info(
      { database: to, reason: messageOf(e) },
      'table fingerprints unreadable: the delta plan reads every table',
    )
    return undefined
  }
}

/** A database loaded into its staging database, ready to be switched in. */
interface StagedDatabase {
  readonly selected: SelectedDatabase
  readonly to: string
  readonly plan: MysqlRestorePlan
  readonly stage: string
  readonly trash: string
  readonly rows: number
  readonly bytes: number
  /** The staged patches, for the switch. */
  readonly patches: readonly PatchSwitch[]
  switchMs: number
}

/**
 * How many bytes of the server's datadir filesystem the staging copy of one byte of data
 * files takes, at most, by default: InnoDB pages are not full, secondary indexes are built
 * beside the rows, and the rebuild of an index writes temporary files (docs/MYSQL.md,
 * "Room for staging").
 */
export const STAGING_SPACE_FACTOR = 3

/**
 * Refuses, before anything is changed, when the datadir's filesystem has less free room than
 * the reloaded tables' data bytes in the snapshot, plus the patches', times the factor. The server's datadir is
 * measured here (statfs) when the server is on this machine; otherwise, or when the path is
 * not visible, the check is skipped and the log says so.
 */
async function checkSpace(
  s: MysqlSession,
  target: MysqlSource,
  entries: readonly SelectedDatabase[],
  plans: readonly MysqlRestorePlan[],
  patchBytes: number,
  ctx: DriverContext,
  opts: MysqlRestoreOptions,
): Promise<void> {
  const factor = opts.spaceFactor ?? STAGING_SPACE_FACTOR
  if (!(factor >= 0) || !Number.isFinite(factor))
    throw new InvalidInputError('space-factor', 'The staging space factor must be 0 or more.')
  // The patches' staged rows take room too (their data-file bytes, held by the plan).
  const dataBytes = entries.reduce(
    (n, e, i) =>
      n +
      e.tables.filter((t) => plans[i]!.reload.includes(t.name)).reduce((m, t) => m + t.bytes, 0),
    patchBytes,
  )
  const needed = Math.ceil(dataBytes * factor)
  const datadir = cellText((await s.query('SELECT @@datadir'))[0]?.[0])
  const local =
    target.socket !== undefined || ['127.0.0.1', 'localhost', '::1'].includes(target.host)
  let free: number | undefined
  if (local)
    free = await statfs(datadir).then(
      (st) => Number(st.bavail) * Number(st.bsize),
      () => undefined,
    )
  if (free === undefined) {
    ctx.log.info(
      { datadir, neededBytes: needed },
      local
        ? 'the server datadir is not readable here: staging space not checked'
        : 'the server is not on this machine: staging space not checked',
    )
    return
  }
  if (needed > free)
    throw new RefusedError(
      'no_space',
      `Not enough room for the staging copy on the server's datadir ${datadir}: the restore needs about ${formatBytes(needed)} (${formatBytes(dataBytes)} of table data × ${factor}) and ${formatBytes(free)} is free. Nothing was changed.`,
    )
  ctx.log.debug({ datadir, neededBytes: needed, freeBytes: free }, 'staging space checked')
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB']
  let i = 0
  let v = n
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? String(v) : v.toFixed(1)} ${units[i]!}`
}

/**
 * Loads the tables of `plan` that differ into a new staging database. The
 * staging database is pushed to `staged` as soon as it exists, so that a failure drops it.
 */
async function stageDatabase(
  tree: TreeReader,
  selected: SelectedDatabase,
  to: string,
  plan: MysqlRestorePlan,
  sessions: MysqlSession[],
  id: string,
  staged: StagedDatabase[],
  ctx: DriverContext,
  opts: MysqlRestoreOptions,
  where: string,
  patches: ReadonlyMap<string, TablePatch>,
): Promise<StagedDatabase> {
  const { entry, tables, creates } = selected
  const main = sessions[0]!
  const dir = `services/${opts.service ?? 'mysql'}/${fileNameOf(entry.name)}`
  const { stage, trash } = sideDatabases(to, id)

  opts.onPhase?.('stage', entry.name)
  await main.query(`CREATE DATABASE ${quoteIdent(stage)} ${databaseOptions(entry)}`)
  const result: StagedDatabase = {
    selected,
    to,
    plan,
    stage,
    trash,
    rows: 0,
    bytes: 0,
    patches: [],
    switchMs: 0,
  }
  staged.push(result)
  // Before any load: what the switch creates after its RENAME must not fail for want of a
  // privilege (the target would be left without its triggers).
  await rehearseObjects(
    main,
    stage,
    entry,
    { wholeDatabase: plan.wholeDatabase, triggerTables: new Set(tables.map((t) => t.name)) },
    where,
  )
  const reload = tables.filter((t) => plan.reload.includes(t.name))
  for (const t of reload) {
    await main.query(`USE ${quoteIdent(stage)}`)
    await main.query(renameDatabase(creates.get(t.name) ?? '', entry.name, stage))
    if (t.kind === 'sequence' && t.sequenceNext)
      await main.query(`SELECT SETVAL(${qualified(stage, t.name)}, ${BigInt(t.sequenceNext)}, 0)`)
  }
  ctx.signal.throwIfAborted()
  const textInput = new Map(
    (await listTables(main, stage)).map((t) => [t.name, textInputColumns(t.columns)]),
  )

  opts.onPhase?.('load', entry.name)
  const pool = new SessionPool(sessions)
  let bytesDone = 0
  let rows = 0
  const parts = reload
    .filter((t) => t.kind === 'table')
    .flatMap((t) => t.parts.map((p) => ({ t, p })))
  const bytesTotal = parts.reduce((n, x) => n + x.p.bytes, 0)
  await forEachLimit(
    parts,
    sessions.length,
    async ({ t, p }, signal) => {
      let attemptBytes = 0
      const loaded = await retryingDeadlocks(`${entry.name}.${t.name} (${p.file})`, ctx.log, () => {
        // A load rolled back by a deadlock starts over: its bytes count again.
        bytesDone -= attemptBytes
        attemptBytes = 0
        return pool.use(async (s) => {
          if (t.history) await allowHistory(s, `${entry.name}.${t.name}`)
          return s.load(
            loadDataSql(stage, t.name, t.columns, textInput.get(t.name)),
            counted(tree.readFile(`${dir}/${p.file}`, { signal }), (n) => {
              attemptBytes += n
              bytesDone += n
              ctx.progress({ bytesDone, bytesTotal, itemsDone: 0, phase: 'load' })
            }),
          )
        })
      })
      if (loaded !== p.rows)
        throw new CofferError(
          'restore_failed',
          `Loading ${entry.name}.${t.name} (${p.file}) gave ${loaded} rows where the snapshot has ${p.rows}.`,
        )
      rows += loaded
    },
    ctx.signal,
  )
  ctx.signal.throwIfAborted()
  const patchSwitches = await stagePatches(main, entry, to, stage, plan.patch, patches)
  staged.pop()
  return { ...result, rows, bytes: bytesDone, patches: patchSwitches }
}

/**
 * Lets session `s` load a system-versioned table's past rows with their period
 * (system-versioning.ts); a server without the setting (before MariaDB 10.11), or one that
 * refuses it, is refused here, before anything is switched.
 */
async function allowHistory(s: MysqlSession, table: string): Promise<void> {
  try {
    await s.query(INSERT_HISTORY)
  } catch (e) {
    throw new CofferError(
      'restore_failed',
      `The snapshot holds the history of the system-versioned table ${table}, and this server cannot load it (system_versioning_insert_history, MariaDB 10.11 or later: ${serverMessage(e)}). Nothing was changed.`,
      { cause: e },
    )
  }
}

async function readText(tree: TreeReader, path: string, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of tree.readFile(path, { signal })) chunks.push(Buffer.from(c))
  // The stored file ends in ";\n" so that it runs as is in the mysql client.
  return Buffer.concat(chunks).toString('utf8').replace(/;\n$/, '')
}
