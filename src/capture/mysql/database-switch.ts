import type { DatabaseEntry } from './database-entry.js'
import { qualified, quoteIdent, quoteString } from './names.js'
import { createObject, dropObjectSql, renameDatabase } from './object-sql.js'
import { listTables, readEvents, readRoutines, readTriggers, readViews } from './schema-reader.js'
import { cellText, type MysqlSession } from './session.js'
import { applyPatches, type PatchSwitch } from './table-patch.js'

/**
 * Everything the switch of one staged database needs, and nothing it must read from the
 * snapshot: it is written to the restore's journal (switch-journal.ts) before the first
 * RENAME, so that a run killed half-way through is finished by the next one.
 */
export interface DatabaseSwitch {
  readonly to: string
  readonly stage: string
  readonly trash: string
  /** The whole database is restored: its views, routines and events are replaced too. */
  readonly wholeDatabase: boolean
  /** Tables staged, moved into the target (the target's own go to the trash). */
  readonly reload: readonly string[]
  /** Target tables the snapshot lacks, moved to the trash. */
  readonly drop: readonly string[]
  /** The restored tables (their triggers are replaced). */
  readonly tables: readonly string[]
  /** Tables patched in place from the staging database (table-patch.ts). */
  readonly patch?: readonly PatchSwitch[]
  /** The snapshot's database: options and objects (its `tables` are not needed here). */
  readonly entry: Omit<DatabaseEntry, 'tables'>
}

/** The switch description of a staged database (the entry's table list left out). */
export function databaseSwitch(
  entry: DatabaseEntry,
  rest: Omit<DatabaseSwitch, 'entry'>,
): DatabaseSwitch {
  const { tables: _, ...objects } = entry
  return { ...rest, entry: objects }
}

/**
 * Switches a staged database in (docs/MYSQL.md, "What a reader sees during the switch"):
 * the target's triggers on the restored tables (and for a whole database its views,
 * routines and events) are dropped, the patched tables get their staged rows (one
 * transaction), one RENAME TABLE moves the target's replaced and
 * dropped tables into the trash database and the staged ones in, sequence defaults are
 * pointed at the target, and the snapshot's objects are created.
 *
 * Idempotent, so that a journal can replay it after a kill at any statement: the patches
 * apply while their staged tables are still there (rewriting rows with the same rows
 * again), the RENAME moves all its tables or none, and runs only while the staged tables
 * are still in the staging database; objects are dropped before they are created.
 */
export async function runSwitch(
  s: MysqlSession,
  sw: DatabaseSwitch,
  onRenamed?: () => void,
  /** Patched tables whose patches were committed ahead of the switch (patch-ahead.ts). */
  applied?: ReadonlySet<string>,
): Promise<void> {
  const { to, stage, trash } = sw
  const exists = await schemaExists(s, to)
  if (!exists) await s.query(`CREATE DATABASE ${quoteIdent(to)} ${databaseOptions(sw.entry)}`)
  const current = exists ? (await listTables(s, to)).map((t) => t.name) : []
  const staged = (await schemaExists(s, stage))
    ? new Set((await listTables(s, stage)).map((t) => t.name))
    : new Set<string>()
  const renamed =
    sw.reload.length > 0
      ? !sw.reload.some((n) => staged.has(n))
      : !sw.drop.some((n) => current.includes(n))
  if (exists) await dropReplacedObjects(s, sw)
  // Before the RENAME, which commits on its own: the patches commit in their transaction.
  if (exists && sw.patch) await applyPatches(s, to, stage, sw.patch, staged, applied)
  if (!renamed) {
    const out = [...sw.reload, ...sw.drop].filter((n) => current.includes(n))
    const renames = [
      ...out.map((n) => `${qualified(to, n)} TO ${qualified(trash, n)}`),
      ...sw.reload.map((n) => `${qualified(stage, n)} TO ${qualified(to, n)}`),
    ]
    if (out.length > 0) await s.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(trash)}`)
    if (renames.length > 0) await s.query(`RENAME TABLE ${renames.join(', ')}`)
  }
  await retargetDefaults(s, sw)
  onRenamed?.()
  await createObjects(s, sw)
}

async function schemaExists(s: MysqlSession, db: string): Promise<boolean> {
  const rows = await s.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [
    db,
  ])
  return rows.length > 0
}

/**
 * Drops what the switch replaces: triggers of the restored tables (a table with triggers
 * cannot be renamed into another database, ER_TRG_IN_WRONG_SCHEMA) and, for a whole
 * database, its views, routines and events.
 */
async function dropReplacedObjects(s: MysqlSession, sw: DatabaseSwitch): Promise<void> {
  const { to } = sw
  const names = new Set(sw.tables)
  for (const t of await readTriggers(s, to))
    if (sw.wholeDatabase || names.has(t.table ?? ''))
      await s.query(dropObjectSql('TRIGGER', to, t.name))
  if (!sw.wholeDatabase) return
  for (const v of await readViews(s, to))
    await s.query(`DROP VIEW IF EXISTS ${qualified(to, v.name)}`)
  for (const r of await readRoutines(s, to)) await s.query(dropObjectSql(r.type, to, r.name))
  for (const ev of await readEvents(s, to)) await s.query(dropObjectSql('EVENT', to, ev.name))
}

/**
 * A column default that draws from a sequence names the sequence with its database, and the
 * name stays that of the staging database through RENAME TABLE: point such defaults of the
 * reloaded tables at the target (a metadata-only ALTER). In between, an insert relying on
 * such a default fails: the sequence it names has moved into the target with the RENAME.
 */
async function retargetDefaults(s: MysqlSession, sw: DatabaseSwitch): Promise<void> {
  const { reload, stage, to } = sw
  if (reload.length === 0) return
  const rows = await s.query(
    `SELECT TABLE_NAME, COLUMN_NAME, COLUMN_DEFAULT FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = ? AND COLUMN_DEFAULT LIKE ?`,
    [to, `%${quoteIdent(stage).replace(/[\\%_]/g, (c) => `\\${c}`)}.%`],
  )
  for (const r of rows) {
    const table = cellText(r[0])
    if (!reload.includes(table)) continue
    const expr = renameDatabase(cellText(r[2]), stage, to)
    await s.query(
      `ALTER TABLE ${qualified(to, table)} ALTER COLUMN ${quoteIdent(cellText(r[1]))} SET DEFAULT (${expr})`,
    )
  }
}

/** CHARACTER SET, COLLATE and (when it has one) COMMENT of a database, for CREATE/ALTER. */
export function databaseOptions(entry: Omit<DatabaseEntry, 'tables'>): string {
  const comment = entry.comment !== undefined ? ` COMMENT ${quoteString(entry.comment)}` : ''
  return `CHARACTER SET ${quoteString(entry.characterSet)} COLLATE ${quoteString(entry.collation)}${comment}`
}

/** Creates the snapshot's views, routines, triggers and events in the switched-in target. */
async function createObjects(s: MysqlSession, sw: DatabaseSwitch): Promise<void> {
  const { entry, to } = sw
  const names = new Set(sw.tables)
  if (sw.wholeDatabase) await s.query(`ALTER DATABASE ${quoteIdent(to)} ${databaseOptions(entry)}`)
  await s.query(`USE ${quoteIdent(to)}`)
  const rename = (sql: string): string => renameDatabase(sql, entry.name, to)
  if (sw.wholeDatabase) {
    for (const v of entry.views) await createObject(s, v, rename(v.createSql))
    for (const r of entry.routines) await createObject(s, r, rename(r.createSql))
  }
  for (const t of entry.triggers)
    if (sw.wholeDatabase || names.has(t.table ?? '')) await createObject(s, t, rename(t.createSql))
  if (sw.wholeDatabase)
    for (const ev of entry.events) await createObject(s, ev, rename(ev.createSql))
}
