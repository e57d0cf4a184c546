import { quoteIdent, qualified } from './names.js'

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
