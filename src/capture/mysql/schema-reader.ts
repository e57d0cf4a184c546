import type { ObjectEntry, ViewEntry } from './database-entry.js'
import { qualified } from './names.js'
import type { ColumnInfo } from './row-format.js'
import { cellText, type MysqlSession } from './session.js'
import { systemVersioningOf, type SystemVersioning } from './system-versioning.js'

/** A table as the capture sees it before dumping. */
export interface TableInfo {
  readonly db: string
  readonly name: string
  readonly kind: 'table' | 'sequence'
  readonly engine: string
  readonly estimatedRows: number
  readonly columns: readonly ColumnInfo[]
  /** Primary key columns in key order (empty: no primary key). */
  readonly primaryKey: readonly string[]
  /** Whether the single primary key column is an integer (parts are split on it). */
  readonly integerKey: boolean
  /** Set for a system-versioned table (system-versioning.ts). */
  readonly versioning?: SystemVersioning
}

export interface DatabaseInfo {
  readonly name: string
  readonly characterSet: string
  readonly collation: string
  /** The database's comment (MariaDB 10.5+); empty when it has none or the server has none. */
  readonly comment: string
}

const str = cellText

/** Databases of the server with their default character set and collation. */
export async function listDatabases(s: MysqlSession): Promise<DatabaseInfo[]> {
  const columns = 'SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME'
  const from = 'FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME'
  // SCHEMA_COMMENT exists in MariaDB 10.5 and later only.
  const rows = await s
    .query(`SELECT ${columns}, SCHEMA_COMMENT ${from}`)
    .catch(() => s.query(`SELECT ${columns}, '' ${from}`))
  return rows.map((r) => ({
    name: str(r[0]),
    characterSet: str(r[1]),
    collation: str(r[2]),
    comment: r[3] === null || r[3] === undefined ? '' : str(r[3]),
  }))
}

/** Base tables and sequences of `db`, with their columns and primary keys. */
export async function listTables(s: MysqlSession, db: string): Promise<TableInfo[]> {
  const tables = await s.query(
    `SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS FROM information_schema.TABLES
     WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'SEQUENCE', 'SYSTEM VERSIONED')
     ORDER BY TABLE_NAME`,
    [db],
  )
  const columns = await s.query(
    `SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, EXTRA FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    [db],
  )
  const keys = await s.query(
    `SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
     WHERE TABLE_SCHEMA = ? AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_NAME, SEQ_IN_INDEX`,
    [db],
  )
  const out: TableInfo[] = []
  for (const t of tables) {
    const name = str(t[0])
    const cols = columns
      .filter((c) => str(c[0]) === name)
      .map((c) => ({ name: str(c[1]), dataType: str(c[2]), extra: str(c[3]) }))
    const primaryKey = keys.filter((k) => str(k[0]) === name).map((k) => str(k[1]))
    const keyType =
      primaryKey.length === 1 ? cols.find((c) => c.name === primaryKey[0])?.dataType : undefined
    // Only a versioned table's definition says where its history is: read for those alone.
    const versioning =
      str(t[1]) === 'SYSTEM VERSIONED'
        ? systemVersioningOf(await showCreateTable(s, db, name), cols)
        : undefined
    out.push({
      db,
      name,
      kind: str(t[1]) === 'SEQUENCE' ? 'sequence' : 'table',
      engine: str(t[2]),
      estimatedRows: Number(t[3] ?? 0),
      columns: cols,
      primaryKey,
      integerKey: /^(tinyint|smallint|mediumint|int|bigint)$/i.test(keyType ?? ''),
      ...(versioning ? { versioning } : {}),
    })
  }
  return out
}

/** Engines that read at the snapshot transaction's point (others are read as they are). */
export function isTransactional(engine: string): boolean {
  return /^(InnoDB|XtraDB|ROCKSDB|TokuDB|SEQUENCE)$/i.test(engine)
}

/** `SHOW CREATE TABLE` (or SEQUENCE) text. */
export async function showCreateTable(
  s: MysqlSession,
  db: string,
  table: string,
  kind: 'table' | 'sequence' = 'table',
): Promise<string> {
  const rows = await s.query(
    `SHOW CREATE ${kind === 'sequence' ? 'SEQUENCE' : 'TABLE'} ${qualified(db, table)}`,
  )
  return str(rows[0]?.[1])
}

/** Views of `db` with their definitions, each after the views it reads. */
export async function readViews(s: MysqlSession, db: string): Promise<ViewEntry[]> {
  const names = await s.query(
    `SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`,
    [db],
  )
  const views: ViewEntry[] = []
  for (const [n] of names) {
    const r = (await s.query(`SHOW CREATE VIEW ${qualified(db, str(n))}`))[0] ?? []
    views.push({
      name: str(n),
      createSql: str(r[1]),
      characterSetClient: str(r[2]),
      collationConnection: str(r[3]),
    })
  }
  return dependencyOrder(db, views)
}

/**
 * Orders views so that each comes after the views its definition names. The server writes
 * every table reference of a stored view as `db`.`name`, so a reference is that text.
 */
export function dependencyOrder(db: string, views: readonly ViewEntry[]): ViewEntry[] {
  const byName = new Map(views.map((v) => [v.name, v]))
  const done = new Set<string>()
  const out: ViewEntry[] = []
  const visit = (v: ViewEntry, path: Set<string>): void => {
    if (done.has(v.name) || path.has(v.name)) return
    path.add(v.name)
    for (const other of byName.values())
      if (other !== v && v.createSql.includes(qualified(db, other.name))) visit(other, path)
    done.add(v.name)
    out.push(v)
  }
  for (const v of views) visit(v, new Set())
  return out
}

/** Triggers of `db`, per table in their action order. */
export async function readTriggers(s: MysqlSession, db: string): Promise<ObjectEntry[]> {
  const names = await s.query(
    `SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS
     WHERE TRIGGER_SCHEMA = ? ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER`,
    [db],
  )
  const out: ObjectEntry[] = []
  for (const [name, table] of names) {
    // Trigger, sql_mode, SQL Original Statement, character_set_client, collation_connection,
    // Database Collation, Created
    const r = (await s.query(`SHOW CREATE TRIGGER ${qualified(db, str(name))}`))[0] ?? []
    out.push({
      name: str(name),
      type: 'TRIGGER',
      table: str(table),
      createSql: str(r[2]),
      sqlMode: str(r[1]),
      characterSetClient: str(r[3]),
      collationConnection: str(r[4]),
      databaseCollation: str(r[5]),
    })
  }
  return out
}

/** Stored procedures and functions of `db`. */
export async function readRoutines(s: MysqlSession, db: string): Promise<ObjectEntry[]> {
  const names = await s.query(
    `SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES
     WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')
     ORDER BY ROUTINE_TYPE, ROUTINE_NAME`,
    [db],
  )
  const out: ObjectEntry[] = []
  for (const [name, type] of names) {
    // Procedure|Function, sql_mode, Create …, character_set_client, collation_connection,
    // Database Collation
    const r = (await s.query(`SHOW CREATE ${str(type)} ${qualified(db, str(name))}`))[0] ?? []
    out.push({
      name: str(name),
      type: str(type),
      createSql: str(r[2]),
      sqlMode: str(r[1]),
      characterSetClient: str(r[3]),
      collationConnection: str(r[4]),
      databaseCollation: str(r[5]),
    })
  }
  return out
}

/** Events of `db`. */
export async function readEvents(s: MysqlSession, db: string): Promise<ObjectEntry[]> {
  const names = await s.query(
    `SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME`,
    [db],
  )
  const out: ObjectEntry[] = []
  for (const [name] of names) {
    // Event, sql_mode, time_zone, Create Event, character_set_client, collation_connection,
    // Database Collation
    const r = (await s.query(`SHOW CREATE EVENT ${qualified(db, str(name))}`))[0] ?? []
    out.push({
      name: str(name),
      type: 'EVENT',
      createSql: str(r[3]),
      sqlMode: str(r[1]),
      timeZone: str(r[2]),
      characterSetClient: str(r[4]),
      collationConnection: str(r[5]),
      databaseCollation: str(r[6]),
    })
  }
  return out
}

/** The value NEXTVAL of a sequence returns next, read without consuming one. */
export async function sequenceNext(s: MysqlSession, db: string, name: string): Promise<string> {
  const r = await s.query(`SELECT next_not_cached_value FROM ${qualified(db, name)}`)
  return str(r[0]?.[0])
}
