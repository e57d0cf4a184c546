import { quoteIdent, qualified } from './names.js'
import { LONG_MARKER } from './row-feeds.js'

/**
 * The data file format (docs/FORMAT.md, "MySQL table data"): what `LOAD DATA … CHARACTER
 * SET binary` reads with its default field and line options: one line per row ending in
 * `\n`, fields separated by a tab, NULL written `\N`, and in values the bytes backslash,
 * tab, newline, carriage return and NUL written `\\`, `\t`, `\n`, `\r`, `\0`. Every other
 * byte is the column's stored value as the server sends it with no character set
 * conversion.
 */

/** A column as the dump selects it and the load assigns it. */
export interface ColumnPlan {
  readonly name: string
  /** The SELECT expression (FLOAT is widened to DOUBLE so its text form is exact). */
  readonly select: string
}

/** What information_schema.COLUMNS says about a column, as far as the format cares. */
export interface ColumnInfo {
  readonly name: string
  readonly dataType: string
  readonly extra: string
}

/**
 * The stored columns of a table, in order: generated columns are left out (the server
 * computes them again), invisible columns kept (they hold data).
 */
export function planColumns(columns: readonly ColumnInfo[]): ColumnPlan[] {
  return columns
    .filter((c) => !/\bGENERATED\b/i.test(c.extra))
    .map((c) => ({
      name: c.name,
      // FLOAT's text form has 6 significant digits and does not round-trip; the same value
      // as DOUBLE is exact, and LOAD DATA rounds it back to the identical FLOAT.
      select:
        c.dataType.toLowerCase() === 'float'
          ? `CAST(${quoteIdent(c.name)} AS DOUBLE)`
          : quoteIdent(c.name),
    }))
}

/**
 * Data types whose binary-string input is their 16- or 4-byte internal form, not their text:
 * loaded `CHARACTER SET binary`, the text a data file holds would be refused (NULL). Their
 * fields go through a user variable converted to text (docs/FORMAT.md, "Data files").
 */
export const TEXT_INPUT_TYPES: ReadonlySet<string> = new Set(['uuid', 'inet4', 'inet6'])

/** The columns of `columns` loaded through a variable (of a type in TEXT_INPUT_TYPES). */
export function textInputColumns(columns: readonly ColumnInfo[]): Set<string> {
  return new Set(
    columns.filter((c) => TEXT_INPUT_TYPES.has(c.dataType.toLowerCase())).map((c) => c.name),
  )
}

/**
 * The statement that loads a data file of `columns` into `db`.`table`. The columns named in
 * `textInput` (of a type in TEXT_INPUT_TYPES) are read into `@cN` and assigned as utf8mb4 text.
 */
export function loadDataSql(
  db: string,
  table: string,
  columns: readonly string[],
  textInput: ReadonlySet<string> = new Set(),
): string {
  const sets: string[] = []
  const targets = columns.map((c, i) => {
    if (!textInput.has(c)) return quoteIdent(c)
    sets.push(`${quoteIdent(c)} = CONVERT(@c${i} USING utf8mb4)`)
    return `@c${i}`
  })
  return (
    `LOAD DATA LOCAL INFILE 'coffer.tsv' INTO TABLE ${qualified(db, table)} CHARACTER SET binary ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ` +
    `(${targets.join(', ')})` +
    (sets.length > 0 ? ` SET ${sets.join(', ')}` : '')
  )
}

const BACKSLASH = 0x5c
/** For each byte, the letter that follows the backslash when it is escaped, or 0. */
const ESCAPE_OF = new Uint8Array(256)
ESCAPE_OF[0x5c] = 0x5c // \\
ESCAPE_OF[0x09] = 0x74 // \t
ESCAPE_OF[0x0a] = 0x6e // \n
ESCAPE_OF[0x0d] = 0x72 // \r
ESCAPE_OF[0x00] = 0x30 // \0
/** Below this length a field is copied byte by byte: Buffer#copy's call costs more. */
const SHORT_FIELD = 64

/**
 * Encodes a feed of framed row packets (row-feeds.ts) into data-file lines. `out` must hold
 * `encodedBound(data.length)` bytes; returns the end of the lines written and the rows.
 */
export function encodeFeed(data: Buffer, out: Buffer): { end: number; rows: number } {
  // One loop over frames, fields and bytes: a call per row or per short field costs as much
  // as the bytes it copies (fields are a few bytes on average).
  let at = 0
  let rows = 0
  let p = 0
  const n = data.length
  while (p < n) {
    if (p + 4 > n) throw new Error('malformed row feed: a header runs past its end')
    let length = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16)
    p += 4
    if (length === LONG_MARKER) {
      if (p + 4 > n) throw new Error('malformed row feed: a header runs past its end')
      length = data.readUInt32LE(p)
      p += 4
    }
    const to = p + length
    if (to > n) throw new Error('malformed row feed: a packet runs past its end')
    const from = p
    while (p < to) {
      if (p > from) out[at++] = 0x09
      // A length-coded string (MySQL client/server protocol): one byte below 251, or a
      // marker byte and a 2-, 3- or 8-byte little-endian length; 0xFB alone is NULL.
      const tag = data[p++]!
      let len: number
      if (tag < 0xfb) len = tag
      else if (tag === 0xfb) {
        out[at++] = BACKSLASH
        out[at++] = 0x4e // N
        continue
      } else len = longLength(data, p - 1, to)
      if (tag >= 0xfc) p += tag === 0xfc ? 2 : tag === 0xfd ? 3 : 8
      const end = p + len
      if (end > to) throw new Error('malformed row packet: a field runs past its end')
      if (len < SHORT_FIELD)
        for (; p < end; p++) {
          const c = data[p]!
          const esc = ESCAPE_OF[c]!
          if (esc === 0) out[at++] = c
          else {
            out[at++] = BACKSLASH
            out[at++] = esc
          }
        }
      else at = escapeLong(data, p, end, out, at)
      p = end
    }
    out[at++] = 0x0a
    rows++
  }
  return { end: at, rows }
}

/** The length of a field whose length-coded prefix at `p` has a marker byte (>= 0xFC). */
function longLength(src: Buffer, p: number, to: number): number {
  const tag = src[p]!
  if (tag === 0xfc) return src[p + 1]! | (src[p + 2]! << 8)
  if (tag === 0xfd) return src[p + 1]! | (src[p + 2]! << 8) | (src[p + 3]! << 16)
  if (tag === 0xfe) {
    if (p + 9 > to) throw new Error('malformed row packet: a field runs past its end')
    return src.readUInt32LE(p + 1) + src.readUInt32LE(p + 5) * 2 ** 32
  }
  throw new Error(`malformed row packet: length marker 0x${tag.toString(16)}`)
}

/**
 * Room enough for the lines of a feed of `n` bytes: a field's output (separator, escaped
 * bytes or \N) is at most three times its input (length prefix and bytes, or the one-byte
 * NULL marker), and each row's newline is paid for by its 4-byte frame header.
 */
export const encodedBound = (n: number): number => 3 * n + 1

/** Writes `v[from, to)` escaped into `out` at `at`; returns the new end. Copies plain runs. */
function escapeLong(v: Buffer, from: number, to: number, out: Buffer, at: number): number {
  let start = from
  for (let j = from; j < to; j++) {
    const esc = ESCAPE_OF[v[j]!]!
    if (esc === 0) continue
    at += v.copy(out, at, start, j)
    out[at++] = BACKSLASH
    out[at++] = esc
    start = j + 1
  }
  return at + v.copy(out, at, start, to)
}
