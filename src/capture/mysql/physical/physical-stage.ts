import { CofferError } from '../../../errors.js'
import { counted, forEachLimit } from '../../../lib/index.js'
import type { DriverContext, TreeReader } from '../../ports.js'
import type { MysqlRestorePlan, RestorePhase } from '../mysql-restore.js'
import { qualified, quoteIdent, quoteString, sideDatabases } from '../names.js'
import { rehearseObjects } from '../object-rehearsal.js'
import { renameDatabase } from '../object-sql.js'
import { loadDataSql } from '../row-format.js'
import type { MysqlSession } from '../session.js'
import { retryingDeadlocks } from '../deadlock-retry.js'
import { SessionPool } from '../session-pool.js'
import {
  restoreThroughPrivateServer,
  type FallbackReason,
  type LogicalFallback,
} from './logical-fallback.js'
import type { SelectedDatabase } from './physical-selection.js'
import type { ServerFacts } from './server-facts.js'
import { dropSideDatabases } from './side-cleanup.js'
import { importTablespaces } from './tablespace-import.js'

/** A database staged beside its target, ready to be switched in. */
export interface StagedDatabase {
  readonly selected: SelectedDatabase
  readonly plan: MysqlRestorePlan
  readonly stage: string
  readonly trash: string
  readonly bytes: number
  /** Physical tables whose tablespace was imported into the staging database. */
  readonly imported: readonly string[]
  /** Physical tables restored logically through the private server, by reason. */
  readonly fallbacks: readonly FallbackReason[]
}

/** How a database's physical tables that cannot be imported into the target are restored. */
export interface StageFallback {
  /** Set when none of them can (page size, release series): why, for the activity log. */
  readonly all?: string
  readonly server: LogicalFallback
  /** Told one sentence per reason, naming the tables, before they are restored. */
  readonly onNote: (line: string) => void
}

/**
 * Stages one database of a physical snapshot (docs/PHYSICAL.md, "Restore", steps 2 and 3):
 * every table of `plan.reload` (the others are kept in the target) created in
 * `<target>__coffer_stage_<id>` from its definition; the physical ones imported from their
 * tablespaces (importTablespaces); the logical tables loaded. Physical tables that cannot be
 * imported — all of them when `fallback.all` says why, or one whose IMPORT the target
 * refuses — are created again from their definitions and restored logically through the
 * private server (restoreThroughPrivateServer; docs/PHYSICAL.md, "Logical fallback").
 * The target is not touched. On failure or abort the staging database is dropped. The
 * caller holds the target's restore lock.
 */
export async function stageDatabase(
  tree: TreeReader,
  sel: SelectedDatabase,
  plan: MysqlRestorePlan,
  sessions: readonly MysqlSession[],
  facts: ServerFacts,
  id: string,
  ctx: DriverContext,
  onPhase: (phase: RestorePhase, db: string) => void,
  fallback: StageFallback,
): Promise<StagedDatabase> {
  const { logical, creates, dir, target } = sel
  const name = logical.name
  const reloaded = <T extends { readonly name: string }>(ts: readonly T[]): T[] =>
    ts.filter((t) => plan.reload.includes(t.name))
  const physical = reloaded(sel.physical.tables)
  const logicalTables = reloaded(logical.tables)
  const main = sessions[0]!
  const { stage, trash } = sideDatabases(target, id)
  const createIn = async (t: { readonly name: string }): Promise<void> => {
    await main.query(`USE ${quoteIdent(stage)}`)
    await main.query(renameDatabase(creates.get(t.name) ?? '', name, stage))
  }
  try {
    onPhase('stage', name)
    ctx.signal.throwIfAborted()
    await main.query(
      `CREATE DATABASE ${quoteIdent(stage)} CHARACTER SET ${quoteString(logical.characterSet)} COLLATE ${quoteString(logical.collation)}`,
    )
    // The switch creates every view, routine, trigger and event after its RENAME: make sure
    // none will fail for want of a privilege before anything is written.
    await rehearseObjects(
      main,
      stage,
      logical,
      { wholeDatabase: true, triggerTables: new Set() },
      `the server of ${target}`,
    )
    for (const t of [...physical, ...logicalTables]) {
      await createIn(t)
      if ('sequenceNext' in t && t.kind === 'sequence' && t.sequenceNext)
        await main.query(`SELECT SETVAL(${qualified(stage, t.name)}, ${BigInt(t.sequenceNext)}, 0)`)
    }
    ctx.signal.throwIfAborted()

    onPhase('load', name)
    ctx.signal.throwIfAborted()
    let bytes = 0
    const progress = (n: number): void => {
      bytes += n
      ctx.progress({ bytesDone: bytes, itemsDone: 0, phase: 'load' })
    }
    const source = { tree, dir, creates }
    const refused = await importTablespaces(
      source,
      fallback.all === undefined ? physical : [],
      { sessions, datadir: facts.datadir, db: stage },
      ctx.signal,
      progress,
    )
    for (const t of physical) if (refused.has(t.name)) await createIn(t)
    const pool = new SessionPool(sessions)
    const parts = logicalTables
      .filter((t) => t.kind === 'table')
      .flatMap((t) => t.parts.map((p) => ({ t, p })))
    await forEachLimit(
      parts,
      sessions.length,
      async ({ t, p }, signal) => {
        let attemptBytes = 0
        const loaded = await retryingDeadlocks(`${name}.${t.name} (${p.file})`, ctx.log, () => {
          // A load rolled back by a deadlock starts over: its bytes count again.
          progress(-attemptBytes)
          attemptBytes = 0
          return pool.use((s) =>
            s.load(
              loadDataSql(stage, t.name, t.columns),
              counted(tree.readFile(`${dir}/${p.file}`, { signal }), (n) => {
                attemptBytes += n
                progress(n)
              }),
            ),
          )
        })
        if (loaded !== p.rows)
          throw new CofferError(
            'restore_failed',
            `Loading ${name}.${t.name} (${p.file}) gave ${loaded} rows where the snapshot has ${p.rows}.`,
          )
      },
      ctx.signal,
    )
    const fallbacks = fallbackReasons(
      physical.map((t) => t.name),
      fallback.all,
      refused,
    )
    const viaServer = physical.filter((t) => fallback.all !== undefined || refused.has(t.name))
    if (viaServer.length > 0) {
      const into = target === name ? target : `${name} (into ${target})`
      for (const f of fallbacks) {
        fallback.onNote(
          `Database ${into}: ${f.tables.join(', ')} restored logically through a private MariaDB server, because ${f.reason}`,
        )
        ctx.log.info({ database: target, tables: f.tables, reason: f.reason }, 'logical fallback')
      }
      await restoreThroughPrivateServer(
        source,
        sel,
        viaServer,
        stage,
        sessions,
        fallback.server,
        ctx,
        progress,
      )
    }
    ctx.signal.throwIfAborted()
    const imported = physical.map((t) => t.name).filter((n) => !viaServer.some((t) => t.name === n))
    return { selected: sel, plan, stage, trash, bytes, imported, fallbacks }
  } catch (e) {
    // The target is untouched: only the staging database goes.
    await dropSideDatabases(main, target, facts.datadir, ctx.log, [stage]).catch(() => undefined)
    throw e
  }
}

/** The tables restored logically grouped by reason: one entry per reason, tables in order. */
function fallbackReasons(
  tables: readonly string[],
  all: string | undefined,
  refused: ReadonlyMap<string, string>,
): FallbackReason[] {
  if (all !== undefined) return tables.length > 0 ? [{ reason: all, tables: [...tables] }] : []
  const by = new Map<string, string[]>()
  for (const t of tables) {
    const message = refused.get(t)
    if (message === undefined) continue
    const reason = `IMPORT TABLESPACE failed on the target: ${message}`
    by.set(reason, [...(by.get(reason) ?? []), t])
  }
  return [...by].map(([reason, ts]) => ({ reason, tables: ts }))
}
