import type { ObjectEntry, ViewEntry } from './database-entry.js'
import { quoteIdent, quoteString } from './names.js'
import type { MysqlSession } from './session.js'

/**
 * Rewrites references to database `from` into `to` in a stored definition: the server
 * writes them as `` `from`. `` (quoted, then a dot), so that text is what is replaced.
 */
export function renameDatabase(sql: string, from: string, to: string): string {
  if (from === to) return sql
  return sql.replaceAll(`${quoteIdent(from)}.`, `${quoteIdent(to)}.`)
}

/**
 * Creates a view, trigger, routine or event in the session's current database with the
 * session context it was defined in (sql_mode, character_set_client, collation_connection,
 * and an event's time zone), so that SHOW CREATE shows the same context afterwards.
 */
export async function createObject(
  s: MysqlSession,
  o: ObjectEntry | ViewEntry,
  sql: string,
): Promise<void> {
  const sets = [
    `character_set_client = ${quoteString(o.characterSetClient)}`,
    `collation_connection = ${quoteString(o.collationConnection)}`,
  ]
  if ('sqlMode' in o) sets.push(`sql_mode = ${quoteString(o.sqlMode)}`)
  if ('timeZone' in o && o.timeZone) sets.push(`time_zone = ${quoteString(o.timeZone)}`)
  await s.query(`SET SESSION ${sets.join(', ')}`)
  try {
    await s.query(sql)
  } finally {
    await s.query(
      "SET SESSION character_set_client = utf8mb4, collation_connection = utf8mb4_general_ci, sql_mode = DEFAULT, time_zone = '+00:00'",
    )
  }
}

/** DROP statement of an object of the given type (`PROCEDURE`, `FUNCTION`, `TRIGGER`, …). */
export function dropObjectSql(type: string, db: string, name: string): string {
  return `DROP ${type} IF EXISTS ${quoteIdent(db)}.${quoteIdent(name)}`
}
