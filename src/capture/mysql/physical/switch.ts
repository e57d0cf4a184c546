import type { DatabaseEntry } from '../database-entry.js'
import { qualified, quoteIdent, quoteString } from '../names.js'
import { createObject, dropObjectSql, renameDatabase } from '../object-sql.js'
import { listTables, readEvents, readRoutines, readTriggers, readViews } from '../schema-reader.js'
import type { MysqlSession } from '../session.js'

/**
 * The logical restore's switch for a whole database (docs/MYSQL.md, "What a reader sees
 * during the switch"): the target's triggers, views, routines and events are dropped, one
 * RENAME TABLE moves out to `trash` the target's tables that are staged (`reload`) or that
 * the snapshot (`tables`) lacks, and the staged ones in; the snapshot's other tables stay
 * as they are (kept by the delta plan); then the snapshot's views, routines, triggers and
 * events are created in the target. Returns the target tables the snapshot does not have
 * (moved to `trash`, dropped with it).
 */
export async function switchDatabase(
  s: MysqlSession,
  entry: DatabaseEntry,
  tables: readonly string[],
  reload: readonly string[],
  stage: string,
  trash: string,
  to: string,
): Promise<string[]> {
  const charset = `CHARACTER SET ${quoteString(entry.characterSet)} COLLATE ${quoteString(entry.collation)}`
  const exists =
    (await s.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [to]))
      .length > 0
  if (!exists) await s.query(`CREATE DATABASE ${quoteIdent(to)} ${charset}`)
  const current = exists ? (await listTables(s, to)).map((t) => t.name) : []
  if (exists) {
    // A table with triggers cannot be renamed into another database (ER_TRG_IN_WRONG_SCHEMA).
    for (const t of await readTriggers(s, to)) await s.query(dropObjectSql('TRIGGER', to, t.name))
    for (const v of await readViews(s, to))
      await s.query(`DROP VIEW IF EXISTS ${qualified(to, v.name)}`)
    for (const r of await readRoutines(s, to)) await s.query(dropObjectSql(r.type, to, r.name))
    for (const ev of await readEvents(s, to)) await s.query(dropObjectSql('EVENT', to, ev.name))
  }
  const dropped = current.filter((n) => !tables.includes(n))
  const out = current.filter((n) => reload.includes(n) || dropped.includes(n))
  const renames = [
    ...out.map((n) => `${qualified(to, n)} TO ${qualified(trash, n)}`),
    ...reload.map((n) => `${qualified(stage, n)} TO ${qualified(to, n)}`),
  ]
  if (out.length > 0) await s.query(`CREATE DATABASE ${quoteIdent(trash)}`)
  if (renames.length > 0) await s.query(`RENAME TABLE ${renames.join(', ')}`)
  await s.query(`ALTER DATABASE ${quoteIdent(to)} ${charset}`)
  await s.query(`USE ${quoteIdent(to)}`)
  const rename = (sql: string): string => renameDatabase(sql, entry.name, to)
  for (const v of entry.views) await createObject(s, v, rename(v.createSql))
  for (const r of entry.routines) await createObject(s, r, rename(r.createSql))
  for (const t of entry.triggers) await createObject(s, t, rename(t.createSql))
  for (const ev of entry.events) await createObject(s, ev, rename(ev.createSql))
  return dropped
}
