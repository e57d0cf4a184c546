import { CofferError } from '../../../errors.js'
import type { DriverContext, TreeReader } from '../../ports.js'
import type { MysqlRestorePlan, RestorePhase } from '../mysql-restore.js'
import { describeMysqlSource, type MysqlSource } from '../mysql-source.js'
import { openSession, serverMessage, type MysqlSession } from '../session.js'
import { planPhysicalDatabase } from './physical-plan.js'
import { refuseUnfit, selectPhysical } from './physical-selection.js'
import { stageDatabase, type StagedDatabase } from './physical-stage.js'
import { readServerFacts } from './server-facts.js'
import { dropSideDatabases } from './side-cleanup.js'
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
}

export interface PhysicalRestoreResult {
  readonly databases: readonly {
    readonly database: string
    readonly target: string
    /** Tables whose tablespace was imported. */
    readonly imported: readonly string[]
    /** Tables loaded from their logical data (other engines, sequences, …). */
    readonly loaded: readonly string[]
    /** Tables whose definition and content already equalled the snapshot's: left as they were. */
    readonly kept: readonly string[]
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
 * Refuses with a RefusedError, before changing anything, when the snapshot's server series
 * (`10.11`), flavour or `innodb_page_size` differ from the target's, when the data directory
 * is not writable here, when its filesystem lacks room for the staged files, or when a
 * single table is asked for. A failure or abort before the first RENAME leaves every target
 * as it was and drops the staging databases.
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
  try {
    for (let i = 0; i < target.connections; i++) sessions.push(await openSession(target))
    for (const s of sessions) await loadSettings(s)
    const main = sessions[0]!
    const facts = await readServerFacts(main)
    datadir = facts.datadir
    await refuseUnfit(selection, facts, target)
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
      staged.push(await stageDatabase(tree, sel, plans[i]!, sessions, facts, id, ctx, onPhase))
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
      const { logical, physical, target: to } = st.selected
      const { reload, keep } = st.plan
      if (i > 0) onPhase('switch', logical.name)
      const started = performance.now()
      const sw = switches[i]!
      await runSwitch(main, sw, () => onPhase('objects', logical.name))
      const switchMs = Math.round(performance.now() - started)
      const imported = physical.tables.map((t) => t.name).filter((n) => reload.includes(n))
      ctx.log.info(
        { database: to, switchMs, imported: imported.length, kept: keep.length },
        'database switched in',
      )
      out.push({
        database: logical.name,
        target: to,
        imported,
        loaded: logical.tables.map((t) => t.name).filter((n) => reload.includes(n)),
        kept: [...keep].sort(),
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

async function loadSettings(s: MysqlSession): Promise<void> {
  // As the logical load: values as stored, no re-validation; foreign_key_checks = 0 is also
  // what lets DISCARD TABLESPACE run on a table that a foreign key references.
  await s.query(
    "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO', foreign_key_checks = 0, unique_checks = 0, check_constraint_checks = 0",
  )
  await s.query('SET SESSION sql_log_bin = 0').catch(() => undefined)
}
