import { IntegrityError } from '../../../errors.js'
import type { TableFingerprint } from '../table-fingerprint.js'
import type { PartRange } from '../table-parts.js'

/**
 * `services/<service>/physical.json` (docs/FORMAT.md, "MySQL physical mode"): what a restore
 * must check before it writes a single tablespace file. Version 1.
 */
export interface PhysicalServiceEntry {
  readonly version: 1
  readonly mode: 'physical'
  /** `SELECT VERSION()` of the captured server. */
  readonly serverVersion: string
  /** `@@innodb_page_size` in bytes; a tablespace only imports into a server with the same. */
  readonly innodbPageSize: number
  /** `mariabackup --version` text, for the record. */
  readonly tool: string
  /** Snapshot names of the databases captured (each has a `<db>/physical/tables.json`). */
  readonly databases: readonly string[]
}

/** `services/<service>/<db>/physical/tables.json`: the tables stored as tablespace files. */
export interface PhysicalDatabaseEntry {
  readonly version: 1
  readonly name: string
  readonly tables: readonly PhysicalTableEntry[]
}

export interface PhysicalTableEntry {
  readonly name: string
  /** File name stem, as in the logical format: `<file>.sql`, `physical/<file>.ibd`, … */
  readonly file: string
  readonly engine: 'InnoDB'
  readonly rowFormat: string
  /** The prepared tablespace: size and SHA-256 (hex) of its bytes. */
  readonly ibd: FileDigest
  /** The export metadata `mariabackup --prepare --export` wrote beside it. */
  readonly cfg: FileDigest
  /**
   * The rows' content hash at the snapshot's point, what the delta restore compares. Absent
   * in snapshots taken before it was recorded and in live captures (whose tablespaces are
   * not at the point of the transaction that read the rows): such tables are always imported.
   */
  readonly content?: TableContent
  /**
   * What the server vouched for at the snapshot point (database-entry.ts, TableEntry): a
   * delta restore keeps a live table that still has it without reading it, and the next
   * capture takes `content` from here instead of reading the rows again.
   */
  readonly unchangedSince?: TableFingerprint
}

/**
 * A table's content hash as the logical driver records it (docs/FORMAT.md, "MySQL table
 * data": SHA-256 of the parts' hashes joined with "\n"), with the key ranges it was taken
 * over, so that a live table can be hashed the same way.
 */
export interface TableContent {
  readonly sha256: string
  /** The primary key column the ranges are on (one integer column), when the table has one. */
  readonly splitColumn?: string
  /** The parts' key ranges, `from <= key < to`, a missing bound open; `[{}]`: one part. */
  readonly ranges: readonly PartRange[]
}

export interface FileDigest {
  readonly size: number
  readonly sha256: string
}

/** Parses `physical.json`; another shape is damage, not input. */
export function parsePhysicalServiceEntry(path: string, text: string): PhysicalServiceEntry {
  const o = parseJson(path, text) as Partial<PhysicalServiceEntry> | null
  if (
    !o ||
    o.version !== 1 ||
    o.mode !== 'physical' ||
    typeof o.serverVersion !== 'string' ||
    typeof o.innodbPageSize !== 'number' ||
    !Array.isArray(o.databases)
  )
    throw new IntegrityError(path, 'not a Coffer physical service entry of version 1')
  return o as PhysicalServiceEntry
}

/** Parses `physical/tables.json`. */
export function parsePhysicalDatabaseEntry(path: string, text: string): PhysicalDatabaseEntry {
  const o = parseJson(path, text) as Partial<PhysicalDatabaseEntry> | null
  if (!o || o.version !== 1 || typeof o.name !== 'string' || !Array.isArray(o.tables))
    throw new IntegrityError(path, 'not a Coffer physical database entry of version 1')
  return o as PhysicalDatabaseEntry
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (e) {
    throw new IntegrityError(path, 'not JSON', { cause: e })
  }
}
