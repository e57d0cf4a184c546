import { Readable } from 'node:stream'
import type { Logger } from '../../lib/index.js'
import { qualified, quoteIdent } from './names.js'
import { loadDataSql, textInputColumns } from './row-format.js'
import { listTables } from './schema-reader.js'
import { cellText, serverMessage, type MysqlSession } from './session.js'
import { inBatches, keepPatchSettings, PATCH_SETTINGS, type TablePatch } from './table-patch.js'

/** The patches a database's plan found, for the tables it patches. */
export interface PlannedPatches {
  readonly to: string
  readonly patched: readonly string[]
  readonly patches: ReadonlyMap<string, TablePatch>
}

/** How long a patch applied ahead waits for a row or table lock before it gives up, in s. */
const LOCK_WAIT_SECONDS = 5

/**
 * Patches applied ahead of the switch, in a transaction left open until the switch commits it
 * (docs/MYSQL.md, "Patching a table in place"). Applying a patch reads the pages of every row
 * it rewrites: a 12,000-row patch of a 1.2 M-row table read most of it, 0.3–0.5 s inside the
 * hold when the buffer pool no longer held it. Applied here, from the plan's rows, while the
 * staging writes the same rows into the staging database for the journal, that reading
 * overlaps the staging, and the hold only commits.
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
   * Applies the patches of `planned` that can be (tables without triggers) on `s`, a session
   * of their own, in one transaction: the keys to delete go through a temporary table, the
   * rows to write are loaded with REPLACE, as the switch would apply them from the staging
   * database. Undefined when there is none or when applying them failed (a lock waited on
   * too long, a deadlock, a warning): the switch then applies them all.
   */
  static async start(
    s: MysqlSession,
    planned: readonly PlannedPatches[],
    log: Logger,
  ): Promise<PatchesAhead | undefined> {
    const started = performance.now()
    const tables = new Map<string, Set<string>>()
    let restoreAll = async (): Promise<void> => {}
    try {
      const restore = await keepPatchSettings(s)
      const [waits] = await s.query(
        'SELECT @@SESSION.innodb_lock_wait_timeout, @@SESSION.lock_wait_timeout',
      )
      restoreAll = async () => {
        await restore()
        await s.query('SET SESSION innodb_lock_wait_timeout = ?, lock_wait_timeout = ?', [
          Number(waits?.[0]),
          Number(waits?.[1]),
        ])
      }
      await s.query(PATCH_SETTINGS)
      await s.query(
        `SET SESSION innodb_lock_wait_timeout = ${LOCK_WAIT_SECONDS}, lock_wait_timeout = ${LOCK_WAIT_SECONDS}`,
      )
      await s.query('START TRANSACTION')
      for (const db of planned) {
        if (db.patched.length === 0) continue
        const triggered = new Set(
          (
            await s.query(
              'SELECT DISTINCT EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?',
              [db.to],
            )
          ).map((r) => cellText(r[0])),
        )
        const live = new Map((await listTables(s, db.to)).map((t) => [t.name, t]))
        const names = new Set([...live.keys()].map((n) => n.toLowerCase()))
        for (const table of db.patched) {
          const patch = db.patches.get(table)
          if (!patch || triggered.has(table)) continue
          await applyAhead(
            s,
            db.to,
            table,
            patch,
            names,
            textInputColumns(live.get(table)?.columns ?? []),
          )
          let set = tables.get(db.to)
          if (!set) tables.set(db.to, (set = new Set()))
          set.add(table)
        }
      }
      if (tables.size === 0) {
        await s.query('ROLLBACK')
        await restoreAll()
        return undefined
      }
    } catch (e) {
      await s.query('ROLLBACK').catch(() => undefined)
      await restoreAll().catch(() => undefined)
      log.warn(
        { error: serverMessage(e) },
        'patches could not be applied ahead of the switch: the switch applies them',
      )
      return undefined
    }
    log.debug(
      {
        tables: [...tables].flatMap(([db, set]) => [...set].map((t) => `${db}.${t}`)),
        ms: Math.round(performance.now() - started),
      },
      'patches applied ahead of the switch',
    )
    return new PatchesAhead(s, restoreAll, tables, log)
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

/**
 * One table's patch, inside the open transaction: the rows of its keys to delete, then its
 * rows to write (REPLACE: a written row also replaces any row it collides with on a unique
 * key). `names`: the database's table names (lower case), which the temporary table of keys
 * must not shadow.
 */
async function applyAhead(
  s: MysqlSession,
  to: string,
  table: string,
  patch: TablePatch,
  names: ReadonlySet<string>,
  textInput: ReadonlySet<string>,
): Promise<void> {
  const target = qualified(to, table)
  if (patch.diff.deleteRows > 0) {
    let tmp = 'coffer_ahead_delete'
    for (let n = 2; names.has(tmp); n++) tmp = `coffer_ahead_delete_${n}`
    const keys = qualified(to, tmp)
    const keyList = patch.keys.map(quoteIdent).join(', ')
    // A temporary table: created and dropped inside the transaction without committing it.
    await s.query(
      `CREATE TEMPORARY TABLE ${keys} (PRIMARY KEY (${keyList})) ENGINE=InnoDB SELECT ${keyList} FROM ${target} LIMIT 0`,
    )
    try {
      await s.load(loadDataSql(to, tmp, patch.keys), Readable.from(inBatches(patch.diff.deletes)))
      await checkNoWarnings(s, `the keys to delete from ${to}.${table}`)
      const on = patch.keys.map((k) => `${target}.${quoteIdent(k)} = ${keys}.${quoteIdent(k)}`)
      await s.query(`DELETE ${target} FROM ${target} JOIN ${keys} ON ${on.join(' AND ')}`)
    } finally {
      await s.query(`DROP TEMPORARY TABLE IF EXISTS ${keys}`)
    }
  }
  if (patch.diff.writeRows > 0) {
    await s.load(
      loadDataSql(to, table, patch.columns, textInput, 'replace'),
      Readable.from(inBatches(patch.diff.writes)),
    )
    await checkNoWarnings(s, `the rows written to ${to}.${table}`)
  }
}

/** Refuses a load the server warned about (a value changed on the way in). */
async function checkNoWarnings(s: MysqlSession, what: string): Promise<void> {
  const [row] = await s.query('SHOW COUNT(*) WARNINGS')
  const n = Number(cellText(row?.[0]))
  if (n > 0) throw new Error(`loading ${what} gave ${n} warnings`)
}
