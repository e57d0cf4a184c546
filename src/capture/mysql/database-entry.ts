import { IntegrityError } from '../../errors.js'
import type { TableFingerprint } from './table-fingerprint.js'

/**
 * The JSON document stored as `services/<service>/<database>/database.json`
 * (docs/FORMAT.md, "MySQL service"). Version 1.
 */
export interface DatabaseEntry {
  readonly version: 1
  readonly name: string
  readonly characterSet: string
  readonly collation: string
  /** The database's comment (MariaDB `CREATE DATABASE … COMMENT`); absent when empty. */
  readonly comment?: string
  /** Base tables and sequences, in name order. */
  readonly tables: readonly TableEntry[]
  /** In dependency order: a view comes after the views it reads. */
  readonly views: readonly ViewEntry[]
  readonly triggers: readonly ObjectEntry[]
  readonly routines: readonly ObjectEntry[]
  readonly events: readonly ObjectEntry[]
}

export interface TableEntry {
  readonly name: string
  /** File name stem: `<file>.sql` holds the definition, parts are `<file>.0001.tsv`, … */
  readonly file: string
  readonly kind: 'table' | 'sequence'
  readonly engine: string
  /** False for engines without transactions (MyISAM, Aria, …): not read at one point. */
  readonly transactional: boolean
  /** Columns of the data files, in order (generated columns are not stored). */
  readonly columns: readonly string[]
  /** The primary key column the parts are split on, when the table is split. */
  readonly splitColumn?: string
  /**
   * A system-versioned table stored with its history (docs/FORMAT.md): the rows of every
   * version, the last two columns its period's start and end.
   */
  readonly history?: true
  readonly parts: readonly PartEntry[]
  readonly rows: number
  readonly bytes: number
  /** SHA-256 (hex) of the parts' `sha256` values joined with "\n" (FORMAT.md). */
  readonly sha256: string
  /** For a sequence: the value NEXTVAL returns next (restored with SETVAL). */
  readonly sequenceNext?: string
  /**
   * What the server vouched for at the snapshot point (table-fingerprint.ts): while the live
   * table still has it, it holds these rows and a delta restore need not read it.
   */
  readonly unchangedSince?: TableFingerprint
}

export interface PartEntry {
  readonly file: string
  /** Key range of the part: `from <= key < to`; a missing bound is open. */
  readonly from?: string
  readonly to?: string
  readonly rows: number
  readonly bytes: number
  readonly sha256: string
}

export interface ViewEntry {
  readonly name: string
  readonly createSql: string
  readonly characterSetClient: string
  readonly collationConnection: string
}

/** A trigger, routine or event: its definition and the session context it was created in. */
export interface ObjectEntry {
  readonly name: string
  /** PROCEDURE or FUNCTION for routines; TRIGGER; EVENT. */
  readonly type: string
  /** For a trigger, its table. */
  readonly table?: string
  readonly createSql: string
  readonly sqlMode: string
  readonly characterSetClient: string
  readonly collationConnection: string
  readonly databaseCollation: string
  /** For an event, the time zone it was defined in. */
  readonly timeZone?: string
}

/** Parses a stored database.json; a document of another shape is damage, not input. */
export function parseDatabaseEntry(path: string, text: string): DatabaseEntry {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    throw new IntegrityError(path, 'not JSON', { cause: e })
  }
  const o = v as Partial<DatabaseEntry> | null
  if (
    !o ||
    o.version !== 1 ||
    typeof o.name !== 'string' ||
    (o.comment !== undefined && typeof o.comment !== 'string') ||
    !Array.isArray(o.tables) ||
    !Array.isArray(o.views) ||
    !Array.isArray(o.triggers) ||
    !Array.isArray(o.routines) ||
    !Array.isArray(o.events)
  )
    throw new IntegrityError(path, 'not a Coffer database entry of version 1')
  return o as DatabaseEntry
}
