import { CofferError } from '../../../errors.js'
import type { DriverContext, TreeReader } from '../../ports.js'
import type { MysqlRestorePlan, RestorePhase } from '../mysql-restore.js'
import { describeMysqlSource, type MysqlSource } from '../mysql-source.js'
import { openSession, openSessions, serverMessage, type MysqlSession } from '../session.js'
import { planPhysicalDatabase } from './physical-plan.js'
import { LogicalFallback, type FallbackReason } from './logical-fallback.js'
import { checkFit } from './physical-fit.js'
import { selectPhysical } from './physical-selection.js'
import { stageDatabase, type StagedDatabase } from './physical-stage.js'
import { readServerFacts } from './server-facts.js'
import { dropSideDatabases } from './side-cleanup.js'
import { restoreSettings } from './tablespace-import.js'
import { randomBytes } from 'node:crypto'
import { databaseSwitch, runSwitch } from '../database-switch.js'
import {
  commitJournal,
  recoverJournals,
  lockRestoreTargets,
  releaseRestoreLocks,
  writeJournal,
} from '../restore-journal.js'
import { listTables } from '../schema-reader.js'
import { probeSwitchLocks } from '../switch-lock-probe.js'

export interface PhysicalRestoreOptions {
  /** The service's name in the tree (`services/<service>/`). Default `mysql`. */
  readonly service?: string
  /** Restore database OLD under the name NEW. */
  readonly databaseMap?: Readonly<Record<string, string>>
  /**
   * Only these databases (snapshot names). Default: every database. A `db/table` entry is
   * refused before any change: a physical restore switches whole databases.
   */
  readonly include?: readonly string[]
  /** Told each phase as it starts (the logical driver's phases, same meaning). */
  readonly onPhase?: (phase: RestorePhase, db: string) => void
  /**
   * The barrier of an environment-wide restore, as for the logical restore: called once,
   * when every selected database has been staged and before the first RENAME of any of them.
   * If it rejects, nothing is switched, the staging databases are dropped and the restore
   * rejects with its error. The restore locks of the targets are held while it runs. It is
   * given the switch journal's database (restore-journal.ts; none when nothing is switched):
   * once it resolves nothing is undone, and a caller that recorded the journal may commit it
   * after a crash (`recoverMysqlRestores` with `commit`).
   */
  readonly beforeSwitch?: (journal: string | undefined) => Promise<void>
  /**
   * Told, as a sentence for the activity log, which tables are restored logically through a
   * private MariaDB server and why: one call per database and reason, before they are.
   */
  readonly onNote?: (line: string) => void
  /**
   * The MariaDB server binary of the logical fallback's private server (docs/PHYSICAL.md,
   * "Logical fallback"). Default: `mariadbd` on PATH, else /usr/sbin/mariadbd.
   */
  readonly mariadbd?: string
  /**
   * Where the private server's scratch directory is made. Default: the parent of the
   * target's data directory when writable here, else the system's temporary directory.
   */
  readonly scratchParent?: string
}

export interface PhysicalRestoreResult {
  readonly databases: readonly {
    readonly database: string
    readonly target: string
    /** Tables whose tablespace was imported. */
    readonly imported: readonly string[]
    /**
     * Tables loaded logically: from their logical data (other engines, sequences, …), or
     * from their tablespace through a private server (the tables of `fallbacks`).
     */
    readonly loaded: readonly string[]
    /** Physical tables restored logically through a private server, by reason. */
    readonly fallbacks: readonly FallbackReason[]
    /** Tables whose definition and content already equalled the snapshot's: left as they were. */
    readonly kept: readonly string[]
    /** Of `kept`, those known equal without reading them (MysqlRestorePlan.unread). */
    readonly keptUnread: readonly string[]
    /** Target tables the snapshot does not have: moved out and dropped. */
    readonly dropped: readonly string[]
    readonly bytes: number
    readonly switchMs: number
  }[]
}

/**
 * Restores the databases of a physical snapshot (docs/PHYSICAL.md, "Restore") into a server
 * whose data directory this process can write, atomically for all of them together: first
 * each selected database is planned as the logical restore's delta (planPhysicalDatabase:
 * tables whose definition and content hash equal the snapshot's are kept) and the others
 * staged beside its target (stageDatabase: tablespaces imported, other tables loaded), then
 * `beforeSwitch` runs, then each database gets the logical restore's switch (one RENAME
 * TABLE, kept tables left in place, then views, routines, triggers, events), back to back.
 *
 * Tables whose tablespace cannot be imported into the target — all of them when its release
 * series or `innodb_page_size` differs from the snapshot's, or one whose IMPORT the target
 * refuses — are restored logically in the same restore: imported into a private MariaDB
 * server of this host and their rows loaded from it (docs/PHYSICAL.md, "Logical fallback";
 * `onNote` and `fallbacks` say which and why). The private server is stopped and its scratch
 * directory removed once every database is staged, and on any failure.
 *
 * Refuses with a RefusedError, before changing anything, when the snapshot's flavour differs
 * from the target's, when its series or page size differ and no private server of the
 * snapshot's series can run here, when tables are to be imported and the data directory is
 * not writable here, when the data directory's or the scratch directory's filesystem lacks
 * room, or when a single table is asked for. A failure or abort before the first RENAME
 * leaves every target as it was and drops the staging databases.
 *
 * Concurrency: excludes other restores of the same targets (logical or physical) through the
 * server locks `coffer_restore:<target>`.
 */
export async function restorePhysical(
  tree: TreeReader,
  target: MysqlSource,
  ctx: DriverContext,
  opts: PhysicalRestoreOptions = {},
): Promise<PhysicalRestoreResult> {
  const selection = await selectPhysical(tree, opts, ctx.signal)
  const onPhase = opts.onPhase ?? (() => {})
  const sessions: MysqlSession[] = []
  const locks: string[] = []
  const staged: StagedDatabase[] = []
  // Shared by the restore's staging, trash and journal databases (restore-journal.ts).
  const id = randomBytes(4).toString('hex')
  let journal: string | undefined
  let switching = false
  let barrierFailed = false
  let datadir = ''
  let fallback: LogicalFallback | undefined
  try {
    sessions.push(...(await openSessions(target, target.connections)))
    for (const s of sessions) await restoreSettings(s)
    const main = sessions[0]!
    const facts = await readServerFacts(main)
    datadir = facts.datadir
    const fit = await checkFit(selection, facts, target, opts)
    fallback = new LogicalFallback({
      ...(opts.mariadbd !== undefined ? { mariadbd: opts.mariadbd } : {}),
      innodbPageSize: selection.service.innodbPageSize,
      scratchParent: fit.scratchParent,
      connections: target.connections,
    })
    const stageFallback = {
      ...(fit.fallbackAll !== undefined ? { all: fit.fallbackAll } : {}),
      server: fallback,
      onNote: opts.onNote ?? (() => {}),
    }
    await lockRestoreTargets(
      main,
      selection.databases.map((d) => d.target),
      locks,
    )
    const plans: MysqlRestorePlan[] = []
    const dropSide = async (t: string, names: readonly string[]): Promise<void> => {
      await dropSideDatabases(main, t, facts.datadir, ctx.log, names)
    }
    for (const sel of selection.databases) {
      await recoverJournals(main, sel.target, ctx.log, dropSide)
      await dropSideDatabases(main, sel.target, facts.datadir, ctx.log)
      onPhase('plan', sel.logical.name)
      ctx.signal.throwIfAborted()
      plans.push(await planPhysicalDatabase(sessions, sel, ctx))
    }
    for (const [i, sel] of selection.databases.entries())
      staged.push(
        await stageDatabase(tree, sel, plans[i]!, sessions, facts, id, ctx, onPhase, stageFallback),
      )
    // Every row is in the staging databases: the private server has done its work.
    await fallback.stop()
    ctx.signal.throwIfAborted()
    const switches = []
    for (const st of staged) {
      const { logical, physical, target: to } = st.selected
      const tables = [...physical.tables, ...logical.tables].map((t) => t.name)
      const current = (await listTables(main, to)).map((t) => t.name)
      switches.push(
        databaseSwitch(logical, {
          to,
          stage: st.stage,
          trash: st.trash,
          wholeDatabase: true,
          reload: st.plan.reload,
          drop: current.filter((n) => !tables.includes(n)),
          tables,
        }),
      )
    }
    await probeSwitchLocks(main, switches, ctx.log)
    if (switches.length > 0) journal = await writeJournal(main, id, switches)
    if (staged[0]) onPhase('switch', staged[0].selected.logical.name)
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
    const out: PhysicalRestoreResult['databases'][number][] = []
    for (const [i, st] of staged.entries()) {
      const { logical, target: to } = st.selected
      const { reload, keep } = st.plan
      if (i > 0) onPhase('switch', logical.name)
      const started = performance.now()
      const sw = switches[i]!
      await runSwitch(main, sw, () => onPhase('objects', logical.name))
      const switchMs = Math.round(performance.now() - started)
      const { imported, fallbacks } = st
      ctx.log.info(
        { database: to, switchMs, imported: imported.length, kept: keep.length },
        'database switched in',
      )
      out.push({
        database: logical.name,
        target: to,
        imported: [...imported],
        loaded: [
          ...logical.tables.map((t) => t.name).filter((n) => reload.includes(n)),
          ...fallbacks.flatMap((f) => f.tables),
        ],
        fallbacks,
        kept: [...keep].sort(),
        keptUnread: st.plan.unread,
        dropped: [...sw.drop],
        bytes: st.bytes,
        switchMs,
      })
    }
    for (const st of staged) {
      onPhase('cleanup', st.selected.logical.name)
      await dropSide(st.selected.target, [st.trash, st.stage])
    }
    if (journal) await dropSide(staged[0]!.selected.target, [journal])
    return { databases: out }
  } catch (e) {
    // Before the switch every target is untouched: only the staging databases go.
    const main = sessions[0]
    if (!switching && main) {
      for (const st of staged)
        await dropSideDatabases(main, st.selected.target, datadir, ctx.log, [st.stage]).catch(
          () => undefined,
        )
      if (journal && staged[0])
        await dropSideDatabases(main, staged[0].selected.target, datadir, ctx.log, [journal]).catch(
          () => undefined,
        )
    }
    if (ctx.signal.aborted) throw ctx.signal.reason
    // The barrier's own error is the caller's to read.
    if (e instanceof CofferError || barrierFailed) throw e
    throw new CofferError(
      'restore_failed',
      `The physical MySQL restore into ${describeMysqlSource(target)} failed: ${serverMessage(e)}.`,
      { cause: e },
    )
  } finally {
    await fallback?.stop()
    await releaseRestoreLocks(sessions[0], locks)
    for (const s of sessions) s.destroy()
  }
}

/**
 * What `restorePhysical` would do, as the logical driver's plans (planPhysicalDatabase),
 * without changing anything: tables kept, reloaded (imported or loaded) and dropped.
 */
export async function previewPhysicalRestore(
  tree: TreeReader,
  target: MysqlSource,
  ctx: DriverContext,
  opts: Pick<PhysicalRestoreOptions, 'service' | 'databaseMap' | 'include'> = {},
): Promise<MysqlRestorePlan[]> {
  const { databases } = await selectPhysical(tree, opts, ctx.signal)
  const s = await openSession(target)
  try {
    const plans: MysqlRestorePlan[] = []
    for (const sel of databases) plans.push(await planPhysicalDatabase(s, sel, ctx))
    return plans
  } finally {
    s.destroy()
  }
}
