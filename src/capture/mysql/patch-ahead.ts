import type { Logger } from '../../lib/index.js'
import { cellText, serverMessage, type MysqlSession } from './session.js'
import {
  keepSessionSettings,
  PATCH_SETTING_NAMES,
  PATCH_SETTINGS,
  patchStatements,
  type PatchSwitch,
} from './table-patch.js'

/** The staged patches of one target database. */
export interface StagedPatches {
  readonly to: string
  readonly stage: string
  readonly patches: readonly PatchSwitch[]
}

/** How long a patch applied ahead waits for a row or table lock before it gives up, in s. */
const LOCK_WAIT_SECONDS = 5

/**
 * Patches applied ahead of the switch, in a transaction left open until the switch commits it
 * (docs/MYSQL.md, "Patching a table in place"). Applying a patch reads the pages of every row
 * it rewrites: a 12,000-row patch of a 1.2 M-row table read most of it, 0.35–0.5 s inside the
 * hold when the buffer pool no longer held it. Done before the hold, that reading overlaps
 * the rest of the staging, and the hold only commits.
 *
 * Nobody sees the rows before the commit: readers see the old rows (consistent reads), a
 * writer of one of them waits for the commit. A kill or a lost connection rolls the
 * transaction back, and the switch, or the journal's replay, applies the staged patches as
 * it would have anyway. Tables with triggers are left to the switch: the switch drops their
 * triggers first, and a patch applied ahead would fire them.
 */
export class PatchesAhead {
  private done = false

  private constructor(
    private readonly s: MysqlSession,
    private readonly restore: () => Promise<void>,
    /** Per target database, the tables whose patches are in the transaction. */
    private readonly tables: ReadonlyMap<string, ReadonlySet<string>>,
    private readonly log: Logger,
  ) {}

  /**
   * Applies the patches of `staged` that can be (tables without triggers) on `s`, a session
   * of their own, in one transaction. Undefined when there is none or when applying them
   * failed (a lock waited on too long, a deadlock): the switch then applies them all.
   */
  static async start(
    s: MysqlSession,
    staged: readonly StagedPatches[],
    log: Logger,
  ): Promise<PatchesAhead | undefined> {
    const plan: { to: string; stage: string; patch: PatchSwitch }[] = []
    for (const st of staged) {
      if (st.patches.length === 0) continue
      const triggered = new Set(
        (
          await s.query(
            'SELECT DISTINCT EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?',
            [st.to],
          )
        ).map((r) => cellText(r[0])),
      )
      for (const patch of st.patches) {
        if (!triggered.has(patch.table)) plan.push({ to: st.to, stage: st.stage, patch })
      }
    }
    if (plan.length === 0) return undefined
    const started = performance.now()
    const restore = await keepSessionSettings(s, [
      ...PATCH_SETTING_NAMES,
      'innodb_lock_wait_timeout',
      'lock_wait_timeout',
    ])
    try {
      await s.query(PATCH_SETTINGS)
      await s.query(
        `SET SESSION innodb_lock_wait_timeout = ${LOCK_WAIT_SECONDS}, lock_wait_timeout = ${LOCK_WAIT_SECONDS}`,
      )
      await s.query('START TRANSACTION')
      for (const { to, stage, patch } of plan)
        for (const sql of patchStatements(to, stage, patch)) await s.query(sql)
    } catch (e) {
      await s.query('ROLLBACK').catch(() => undefined)
      await restore().catch(() => undefined)
      log.warn(
        { error: serverMessage(e) },
        'patches could not be applied ahead of the switch: the switch applies them',
      )
      return undefined
    }
    log.debug(
      {
        tables: plan.map((p) => `${p.to}.${p.patch.table}`),
        ms: Math.round(performance.now() - started),
      },
      'patches applied ahead of the switch',
    )
    const tables = new Map<string, Set<string>>()
    for (const { to, patch } of plan) tables.set(to, (tables.get(to) ?? new Set()).add(patch.table))
    return new PatchesAhead(s, restore, tables, log)
  }

  /**
   * Commits the patches (inside the hold, before the databases' switch). Returns, per target
   * database, the tables whose patches are now in it; on a failed commit none, and the switch
   * applies them again (idempotent: a commit that did happen is rewritten with the same rows).
   */
  async commit(): Promise<ReadonlyMap<string, ReadonlySet<string>>> {
    if (this.done) return new Map()
    this.done = true
    try {
      await this.s.query('COMMIT')
    } catch (e) {
      this.log.warn(
        { error: serverMessage(e) },
        'the patches applied ahead could not be committed: the switch applies them',
      )
      return new Map()
    }
    await this.restore().catch(() => undefined)
    return this.tables
  }

  /** Rolls the patches back (the restore stops before its switch). */
  async rollback(): Promise<void> {
    if (this.done) return
    this.done = true
    await this.s.query('ROLLBACK').catch(() => undefined)
    await this.restore().catch(() => undefined)
  }
}
