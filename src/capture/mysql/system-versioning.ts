import { quoteIdent } from './names.js'
import type { ColumnInfo, ColumnPlan } from './row-format.js'

/**
 * MariaDB's system-versioned tables (`WITH SYSTEM VERSIONING`) keep every past version of
 * their rows beside the current ones; a plain `SELECT` sees only the current ones. Their
 * history is part of what the table holds (an audit trail, say), so a capture reads the
 * table `FOR SYSTEM_TIME ALL` with the period's start and end columns, and a restore loads
 * those rows back with `system_versioning_insert_history` (MariaDB 10.11 and later), as
 * `mariadb-dump --dump-history` does (docs/MYSQL.md, "System-versioned tables").
 *
 * Only timestamp-based versioning can be loaded back: a transaction-precise table's period
 * holds transaction IDs the server refuses to take, so only its current rows are stored.
 */
export interface SystemVersioning {
  /**
   * The period's start and end columns as read and loaded, undefined when the history cannot
   * be loaded back (transaction-precise versioning).
   */
  readonly history: readonly [ColumnPlan, ColumnPlan] | undefined
}

/** The period's columns when the table declares them: `PERIOD FOR SYSTEM_TIME (a, b)`. */
const PERIOD =
  /\bPERIOD FOR SYSTEM_TIME \(\s*(`(?:[^`]|``)+`|"(?:[^"]|"")+")\s*,\s*(`(?:[^`]|``)+`|"(?:[^"]|"")+")\s*\)/i

const unquote = (q: string): string => q.slice(1, -1).replaceAll(q[0]! + q[0]!, q[0]!)

/**
 * How a system-versioned table keeps its history, from its `SHOW CREATE TABLE` text and
 * columns. Without a `PERIOD` clause the table uses the implicit, invisible `ROW_START` and
 * `ROW_END` (timestamps); with one, the named columns, whose type says which kind it is.
 */
export function systemVersioningOf(
  createSql: string,
  columns: readonly ColumnInfo[],
): SystemVersioning {
  const m = PERIOD.exec(createSql)
  if (!m) {
    return {
      history: [
        { name: 'row_start', select: 'ROW_START' },
        { name: 'row_end', select: 'ROW_END' },
      ],
    }
  }
  const start = unquote(m[1]!)
  const end = unquote(m[2]!)
  const type = columns.find((c) => c.name === start)?.dataType.toLowerCase()
  if (type !== 'timestamp') return { history: undefined }
  return {
    history: [
      { name: start, select: quoteIdent(start) },
      { name: end, select: quoteIdent(end) },
    ],
  }
}

/** The session setting a load of history rows needs (MariaDB 10.11 and later). */
export const INSERT_HISTORY = 'SET SESSION system_versioning_insert_history = 1'
