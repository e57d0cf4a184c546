import { Readable } from 'node:stream'
import type { TreeReader } from '../ports.js'
import type { DatabaseEntry, TableEntry } from './database-entry.js'
import { qualified, quoteIdent } from './names.js'
import { loadDataSql, planColumns, textInputColumns } from './row-format.js'
import { diffRows, type RowDiff } from './row-diff.js'
import { rowEncoders } from './row-encoders.js'
import { listTables, type TableInfo } from './schema-reader.js'
import { cellText, type MysqlSession } from './session.js'
import { newCount, partSelect, type TableRead } from './table-parts.js'

/**
 * Patching a table in place (docs/MYSQL.md, "Patching a table in place"): a delta restore
 * that finds a table with the snapshot's definition but other rows compares them row by row
 * (row-diff.ts) and, when few differ, rewrites only those in the target's own table instead
 * of loading the whole table into staging. The changed rows and the keys of the rows to
 * delete are staged like a reload (tables of the staging database), and the switch applies
 * them in one transaction per database; the journal replays that after a kill.
 */

/** Integer types: their text form orders as the key does (row-diff.ts compares numbers). */
const INTEGER_TYPES = /^(tinyint|smallint|mediumint|int|bigint)$/i

/**
 * Positions of the primary key's columns among the stored columns `stored` (the snapshot's
 * data-file columns), when the live table can be patched: InnoDB (transactional, so the
 * patch commits at once), not system-versioned (a patch would write history), a primary key
 * of integer columns only, and the same stored columns as the snapshot. Else undefined.
 */
export function patchKeys(
  live: TableInfo,
  liveCreate: string,
  stored: readonly string[],
): number[] | undefined {
  if (live.kind !== 'table' || !/^InnoDB$/i.test(live.engine)) return undefined
  if (/\bWITH SYSTEM VERSIONING\b/i.test(liveCreate)) return undefined
  if (live.primaryKey.length === 0) return undefined
  const columns = planColumns(live.columns).map((c) => c.name)
  if (columns.length !== stored.length || columns.some((c, i) => c !== stored[i])) return undefined
  const keys: number[] = []
  for (const k of live.primaryKey) {
    const type = live.columns.find((c) => c.name === k)?.dataType ?? ''
    const at = columns.indexOf(k)
    if (!INTEGER_TYPES.test(type) || at < 0) return undefined
    keys.push(at)
  }
  return keys
}

// MariaDB writes the table options on the line that closes the column list, AUTO_INCREMENT
// right after ENGINE.
const AUTO_INCREMENT_OPTION = /^(\) ENGINE=\w+) AUTO_INCREMENT=(\d+)/m

/** A CREATE TABLE text without its AUTO_INCREMENT counter option. */
export function withoutAutoIncrement(create: string): string {
  return create.replace(AUTO_INCREMENT_OPTION, '$1')
}

/** The AUTO_INCREMENT counter a CREATE TABLE text sets ('1' when it sets none). */
export function autoIncrementOf(create: string): string {
  return AUTO_INCREMENT_OPTION.exec(create)?.[2] ?? '1'
}

/** A table's patch, as the plan found it: what to write and delete. */
export interface TablePatch {
  readonly diff: RowDiff
  /** Primary key columns, in key order. */
  readonly keys: readonly string[]
  /** Stored columns (the data file's). */
  readonly columns: readonly string[]
  /** The snapshot's AUTO_INCREMENT counter, when the live table's differs. */
  readonly autoIncrement?: string
}

/**
 * The limits of a patch of `rows` snapshot rows: past them the table is reloaded (row-diff.ts
 * gives up early). `share`: the part of the table diffed here, of its bytes (a table diffed
 * part by part shares the memory budget).
 */
export function patchLimits(rows: number, share = 1): { maxRows: number; maxBytes: number } {
  // Rewriting rows one by one costs several times loading them in bulk; past a quarter of
  // the table a reload is as fast. The changes are held in memory until they are staged.
  return {
    maxRows: Math.max(1000, Math.floor(rows / 4)),
    maxBytes: Math.max(1024 * 1024, Math.floor(64 * 1024 * 1024 * share)),
  }
}

/**
 * The patch that turns the live table `live` (read on `s`, inside the plan's snapshot
 * transaction, in key order; only the key range `range` when given) into the snapshot's rows
 * `snapshot` (its data files for the same range, in key order). Undefined when a patch would
 * not do: too many changes, or rows out of order.
 */
export async function diffLiveTable(
  s: MysqlSession,
  live: TableInfo,
  keys: readonly number[],
  snapshot: AsyncIterable<Uint8Array>,
  snapshotRows: number,
  share: number,
  range: { from?: string; to?: string; column: string } | undefined,
  signal: AbortSignal,
): Promise<RowDiff | undefined> {
  const read: TableRead = {
    db: live.db,
    name: live.name,
    columns: planColumns(live.columns),
    primaryKey: live.primaryKey,
    ...(range ? { splitColumn: range.column } : {}),
  }
  const bounds = {
    ...(range?.from !== undefined ? { from: range.from } : {}),
    ...(range?.to !== undefined ? { to: range.to } : {}),
  }
  // The diff keeps no view of a chunk of lines once it asks for the next (row-diff.ts), and
  // needs no hash of them.
  const lines = rowEncoders().encode(
    s.stream(partSelect(read, bounds), signal),
    newCount(),
    true,
    signal,
    { hashed: false, reused: true },
  )
  return diffRows(snapshot, lines, keys, patchLimits(snapshotRows, share))
}

/** A patch as the switch applies it (written to the restore's journal). */
export interface PatchSwitch {
  /** The patched table; the staging database holds its rows to write under the same name. */
  readonly table: string
  /** The staging database's table of keys to delete. */
  readonly deletes: string
  readonly keys: readonly string[]
  readonly columns: readonly string[]
  readonly autoIncrement?: string
}

/** Bytes per write of a patch's lines to LOAD DATA. */
const BATCH_BYTES = 256 * 1024

/**
 * The lines joined into buffers of about BATCH_BYTES: each buffer the infile stream yields
 * goes to the server as a packet of its own (and a write), so 12,000 rows given one by one
 * took 0.25 s to stage where they take 10 ms in a few buffers.
 */
function* inBatches(lines: readonly Buffer[]): Generator<Buffer> {
  let batch: Buffer[] = []
  let bytes = 0
  for (const line of lines) {
    batch.push(line)
    bytes += line.length
    if (bytes >= BATCH_BYTES) {
      yield Buffer.concat(batch, bytes)
      batch = []
      bytes = 0
    }
  }
  if (bytes > 0) yield Buffer.concat(batch, bytes)
}

/**
 * Stages a table's patch in `stage`: a table like the target's holding the rows to write,
 * and a table of the keys to delete (named `deletes`). Checks the rows loaded.
 */
async function stagePatch(
  s: MysqlSession,
  stage: string,
  to: string,
  table: string,
  deletes: string,
  patch: TablePatch,
  textInput: ReadonlySet<string>,
): Promise<void> {
  const keyList = patch.keys.map(quoteIdent).join(', ')
  // LIKE copies columns, indexes and options, not foreign keys or triggers.
  await s.query(`CREATE TABLE ${qualified(stage, table)} LIKE ${qualified(to, table)}`)
  await s.query(
    `CREATE TABLE ${qualified(stage, deletes)} (PRIMARY KEY (${keyList})) ENGINE=InnoDB SELECT ${keyList} FROM ${qualified(to, table)} LIMIT 0`,
  )
  const written = await s.load(
    loadDataSql(stage, table, patch.columns, textInput),
    Readable.from(inBatches(patch.diff.writes)),
  )
  const deleted = await s.load(
    loadDataSql(stage, deletes, patch.keys),
    Readable.from(inBatches(patch.diff.deletes)),
  )
  if (written !== patch.diff.writeRows || deleted !== patch.diff.deleteRows)
    throw new Error(
      `staging the patch of ${to}.${table} loaded ${written} rows and ${deleted} keys where it has ${patch.diff.writeRows} and ${patch.diff.deleteRows}`,
    )
}

/**
 * The session settings a patch is applied under: foreign key checks off (the rows passed them
 * when they were written, and no cascade must run); unique checks on, so that REPLACE finds
 * every row a written one collides with.
 */
export const PATCH_SETTINGS =
  "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO', foreign_key_checks = 0, unique_checks = 1, check_constraint_checks = 0"

/** The session variables PATCH_SETTINGS sets. */
export const PATCH_SETTING_NAMES = [
  'sql_mode',
  'foreign_key_checks',
  'unique_checks',
  'check_constraint_checks',
] as const

/**
 * Reads the session variables `names` (fixed names, never input); the function returned sets
 * them back, numbers as numbers and `sql_mode` as its text.
 */
export async function keepSessionSettings(
  s: MysqlSession,
  names: readonly string[] = PATCH_SETTING_NAMES,
): Promise<() => Promise<void>> {
  const [before] = await s.query(`SELECT ${names.map((n) => `@@SESSION.${n}`).join(', ')}`)
  const values = (before ?? []).map((v) => {
    const text = cellText(v)
    return /^\d+$/.test(text) ? Number(text) : text
  })
  return async () => {
    await s.query(`SET SESSION ${names.map((n) => `${n} = ?`).join(', ')}`, values)
  }
}

/**
 * The statements of a staged patch, to run in a transaction under PATCH_SETTINGS: the target
 * rows of the staged keys are deleted and the staged rows replace theirs.
 */
export function patchStatements(to: string, stage: string, p: PatchSwitch): string[] {
  const target = qualified(to, p.table)
  const keys = qualified(stage, p.deletes)
  const on = p.keys.map((k) => `${target}.${quoteIdent(k)} = ${keys}.${quoteIdent(k)}`)
  const cols = p.columns.map(quoteIdent).join(', ')
  return [
    // Without aliases: a multi-table DELETE resolves them only in a default database.
    `DELETE ${target} FROM ${target} JOIN ${keys} ON ${on.join(' AND ')}`,
    `REPLACE INTO ${target} (${cols}) SELECT ${cols} FROM ${qualified(stage, p.table)}`,
  ]
}

/**
 * Applies the staged patches of a database switch (the ones still staged: a patch's staged
 * tables are dropped once it is applied, so a replay skips it): in one transaction, their
 * statements (patchStatements); then the AUTO_INCREMENT counters are set back and the staged
 * tables dropped. The patches of tables in `applied` were committed ahead of the switch
 * (patch-ahead.ts): only their counters and staged tables are left to do.
 */
export async function applyPatches(
  s: MysqlSession,
  to: string,
  stage: string,
  patches: readonly PatchSwitch[],
  staged: ReadonlySet<string>,
  applied: ReadonlySet<string> = new Set(),
): Promise<void> {
  const todo = patches.filter((p) => staged.has(p.table) && staged.has(p.deletes))
  if (todo.length === 0) return
  const restore = await keepSessionSettings(s)
  await s.query(PATCH_SETTINGS)
  try {
    const apply = todo.filter((p) => !applied.has(p.table))
    if (apply.length > 0) {
      await s.query('START TRANSACTION')
      try {
        for (const p of apply) for (const sql of patchStatements(to, stage, p)) await s.query(sql)
        await s.query('COMMIT')
      } catch (e) {
        await s.query('ROLLBACK').catch(() => undefined)
        throw e
      }
    }
    for (const p of todo)
      if (p.autoIncrement !== undefined)
        await s.query(
          `ALTER TABLE ${qualified(to, p.table)} AUTO_INCREMENT = ${BigInt(p.autoIncrement)}`,
        )
    await s.query(
      `DROP TABLE ${todo.flatMap((p) => [qualified(stage, p.table), qualified(stage, p.deletes)]).join(', ')}`,
    )
  } finally {
    await restore()
  }
}

/**
 * What a delta restore may read of the snapshot to patch tables in place: a table's stored
 * entry and its data files. `found` receives the patches of the plan's tables.
 */
export interface PatchSource {
  table(name: string): TableEntry | undefined
  /** The data-file bytes of a table, its parts in order, or of its part `part` alone. */
  rows(table: TableEntry, signal: AbortSignal, part?: number): AsyncIterable<Uint8Array>
  readonly found: Map<string, TablePatch>
}

/** The patch source of the stored database `entry`, whose files are under `dir` of `tree`. */
export function patchSource(tree: TreeReader, dir: string, entry: DatabaseEntry): PatchSource {
  return {
    table: (name) => entry.tables.find((t) => t.name === name),
    async *rows(table, signal, part) {
      const parts = part === undefined ? table.parts : table.parts.slice(part, part + 1)
      for (const p of parts) yield* tree.readFile(`${dir}/${p.file}`, { signal })
    },
    found: new Map(),
  }
}

/**
 * Stages the patches of tables `patched` of database `to`: per table its rows to write, under
 * its own name, and the keys to delete, in a table named apart from every table of the
 * snapshot's database `entry`. Returns what the switch needs.
 */
export async function stagePatches(
  s: MysqlSession,
  entry: DatabaseEntry,
  to: string,
  stage: string,
  patched: readonly string[],
  patches: ReadonlyMap<string, TablePatch>,
): Promise<PatchSwitch[]> {
  if (patched.length === 0) return []
  const taken = new Set(entry.tables.map((t) => t.name.toLowerCase()))
  const live = new Map((await listTables(s, to)).map((t) => [t.name, t]))
  const out: PatchSwitch[] = []
  let n = 0
  for (const table of patched) {
    const patch = patches.get(table)
    if (!patch) throw new Error(`no patch for ${to}.${table}`)
    let deletes = `coffer_delete_${++n}`
    while (taken.has(deletes)) deletes = `coffer_delete_${++n}`
    const textInput = textInputColumns(live.get(table)?.columns ?? [])
    await stagePatch(s, stage, to, table, deletes, patch, textInput)
    out.push({
      table,
      deletes,
      keys: patch.keys,
      columns: patch.columns,
      ...(patch.autoIncrement !== undefined ? { autoIncrement: patch.autoIncrement } : {}),
    })
  }
  return out
}
