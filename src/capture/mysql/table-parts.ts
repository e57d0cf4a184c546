import { createHash } from 'node:crypto'
import type { HashedChunk, Polynomial } from '../../repo/index.js'
import type { PartEntry } from './database-entry.js'
import { qualified, quoteIdent } from './names.js'
import { planColumns, type ColumnPlan } from './row-format.js'
import { rowEncoders, type EncodedCount } from './row-encoders.js'
import type { TableInfo } from './schema-reader.js'
import { cellText, type MysqlSession } from './session.js'

/** Rows per part above which a table with an integer primary key is split. */
export const PART_ROWS = 500_000

/** One part of a table to read: a primary-key range (open where a bound is missing). */
export interface PartRange {
  readonly from?: string
  readonly to?: string
}

/** What reading a table needs: columns, key order, and the split column if any. */
export interface TableRead {
  readonly db: string
  readonly name: string
  readonly columns: readonly ColumnPlan[]
  readonly primaryKey: readonly string[]
  readonly splitColumn?: string
  /**
   * A system-versioned table read with its history (`FOR SYSTEM_TIME ALL`): the period's
   * start and end are the last two of `columns`, and the rows are ordered by the key, then
   * the end (system-versioning.ts).
   */
  readonly history?: boolean
}

/**
 * How a table is read (and hashed): split on its primary key when that is one integer; a
 * system-versioned table with its history when it can be loaded back.
 */
export function tableReadOf(t: TableInfo): TableRead {
  const history = t.versioning?.history
  return {
    db: t.db,
    name: t.name,
    columns: [...planColumns(t.columns), ...(history ?? [])],
    primaryKey: t.primaryKey,
    ...(t.integerKey ? { splitColumn: t.primaryKey[0]! } : {}),
    ...(history ? { history: true } : {}),
  }
}

/**
 * Key ranges for a table's parts: one open range unless the table has an integer primary
 * key and more than `partRows` (default PART_ROWS) rows (by the server's estimate), then equal-width ranges
 * between the smallest and largest key. The first and last ranges are open, so rows outside
 * the bounds seen now still fall in a part when the same ranges are read again later (the
 * delta restore hashes the live table over the snapshot's ranges).
 */
export async function planParts(
  s: MysqlSession,
  t: TableRead,
  estimatedRows: number,
  partRows: number = PART_ROWS,
): Promise<PartRange[]> {
  if (!t.splitColumn || estimatedRows <= partRows) return [{}]
  const col = quoteIdent(t.splitColumn)
  const r = await s.query(`SELECT MIN(${col}), MAX(${col}) FROM ${qualified(t.db, t.name)}`)
  if (r[0]?.[0] === null || r[0]?.[0] === undefined) return [{}]
  const min = BigInt(cellText(r[0][0]))
  const max = BigInt(cellText(r[0][1]))
  const n = BigInt(Math.min(256, Math.ceil(estimatedRows / partRows)))
  const width = (max - min) / n + 1n
  const ranges: PartRange[] = []
  for (let i = 0n; i < n; i++) {
    const from = min + width * i
    const to = from + width
    ranges.push({
      ...(i > 0n ? { from: String(from) } : {}),
      ...(i < n - 1n && to <= max ? { to: String(to) } : {}),
    })
    if (to > max) break
  }
  return ranges
}

/** The SELECT of one part, in primary-key order (a table without one: server order). */
export function partSelect(t: TableRead, range: PartRange): string {
  const where: string[] = []
  if (t.splitColumn && range.from !== undefined)
    where.push(`${quoteIdent(t.splitColumn)} >= ${BigInt(range.from)}`)
  if (t.splitColumn && range.to !== undefined)
    where.push(`${quoteIdent(t.splitColumn)} < ${BigInt(range.to)}`)
  const cols = t.columns.length > 0 ? t.columns.map((c) => c.select).join(', ') : "''"
  const order = t.primaryKey.map(quoteIdent)
  // A row's versions share its key (an explicit period's end is in the key already).
  const end = t.history ? t.columns.at(-1) : undefined
  if (end && order.length > 0 && !t.primaryKey.includes(end.name)) order.push(end.select)
  return (
    `SELECT ${cols} FROM ${qualified(t.db, t.name)}` +
    (t.history ? ' FOR SYSTEM_TIME ALL' : '') +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    (order.length ? ` ORDER BY ${order.join(', ')}` : '')
  )
}

/** Counts of a part: rows, bytes and the hash of its data file, set when it is read whole. */
export type PartCount = EncodedCount

/**
 * The data-file bytes of one part, encoded, counted and hashed on a row encoder thread
 * (row-encoders.ts); `count` is set when the iterable is done.
 */
export function partBytes(
  s: MysqlSession,
  t: TableRead,
  range: PartRange,
  count: PartCount,
  signal: AbortSignal,
  onBytes?: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  const lines = rowEncoders().encode(s.stream(partSelect(t, range), signal), count, true, signal)
  return onBytes ? counting(lines, (l) => onBytes(l.length)) : lines
}

/**
 * `partBytes` cut into the repository's chunks with polynomial `pol` on the encoder thread
 * (for TreeWriter.writeChunkedFile).
 */
export function partChunks(
  s: MysqlSession,
  t: TableRead,
  range: PartRange,
  count: PartCount,
  pol: Polynomial,
  signal: AbortSignal,
  onBytes?: (n: number) => void,
): AsyncGenerator<HashedChunk> {
  const chunks = rowEncoders().encodeChunks(
    s.stream(partSelect(t, range), signal),
    count,
    pol,
    signal,
  )
  return onBytes ? counting(chunks, (c) => onBytes(c.data.length)) : chunks
}

async function* counting<T>(
  items: AsyncGenerator<T>,
  onItem: (item: T) => void,
): AsyncGenerator<T> {
  for await (const item of items) {
    onItem(item)
    yield item
  }
}

export const newCount = (): PartCount => ({ rows: 0, bytes: 0, sha256: '' })

/** The table's content hash from its parts' hashes (FORMAT.md, "MySQL table data"). */
export function tableHash(parts: readonly Pick<PartEntry, 'sha256'>[]): string {
  return createHash('sha256')
    .update(parts.map((p) => p.sha256).join('\n'))
    .digest('hex')
}

/**
 * The content hash a live table has now, over the same ranges the snapshot used: equal to
 * the snapshot's `sha256` exactly when every part's bytes are equal.
 */
export async function liveTableHash(
  s: MysqlSession,
  t: TableRead,
  ranges: readonly PartRange[],
  signal: AbortSignal,
): Promise<string> {
  const parts: { sha256: string }[] = []
  for (const range of ranges) {
    const count = newCount()
    // Only the hash is wanted: the lines stay on the encoder thread.
    for await (const chunk of rowEncoders().encode(
      s.stream(partSelect(t, range), signal),
      count,
      false,
      signal,
    ))
      void chunk
    parts.push({ sha256: count.sha256 })
  }
  return tableHash(parts)
}
