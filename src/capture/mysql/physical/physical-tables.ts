import { CofferError } from '../../../errors.js'
import { takesTable, type MysqlSource } from '../mysql-source.js'
import { listTables, showCreateTable } from '../schema-reader.js'
import { cellText, type MysqlSession } from '../session.js'

/** A table that `IMPORT TABLESPACE` can take as it is. */
export interface PhysicalTable {
  readonly db: string
  readonly name: string
  readonly rowFormat: string
  readonly createSql: string
  /** The server's estimate (information_schema.TABLES.TABLE_ROWS), for the manifest. */
  readonly estimatedRows: number
}

/**
 * InnoDB tables of `dbs` whose tablespace can be exported and imported as one file: in a
 * file-per-table tablespace (not in the system tablespace), not partitioned (one file per
 * partition), no FULLTEXT index (its auxiliary tables are not exported), a name that is its
 * own file name (the server encodes other characters), not a sequence (restored with
 * SETVAL). The others go logical.
 */
export async function physicalTables(
  s: MysqlSession,
  source: MysqlSource,
  dbs: readonly string[],
): Promise<PhysicalTable[]> {
  const out: PhysicalTable[] = []
  for (const db of dbs) {
    const rows = await s.query(
      `SELECT t.TABLE_NAME, t.ROW_FORMAT, t.TABLE_ROWS FROM information_schema.TABLES t
       WHERE t.TABLE_SCHEMA = ? AND t.TABLE_TYPE = 'BASE TABLE' AND t.ENGINE = 'InnoDB'
         AND t.CREATE_OPTIONS NOT LIKE '%partitioned%'
         AND NOT EXISTS (SELECT 1 FROM information_schema.STATISTICS i
           WHERE i.TABLE_SCHEMA = t.TABLE_SCHEMA AND i.TABLE_NAME = t.TABLE_NAME
             AND i.INDEX_TYPE = 'FULLTEXT')
         AND EXISTS (SELECT 1 FROM information_schema.INNODB_SYS_TABLESPACES f
           WHERE f.NAME = CONCAT(t.TABLE_SCHEMA, '/', t.TABLE_NAME))
       ORDER BY t.TABLE_NAME`,
      [db],
    )
    const kinds = new Map((await listTables(s, db)).map((t) => [t.name, t.kind]))
    for (const r of rows) {
      const name = cellText(r[0])
      if (!/^[A-Za-z0-9_]+$/.test(db) || !/^[A-Za-z0-9_]+$/.test(name)) continue
      if (kinds.get(name) !== 'table' || !takesTable(source, db, name)) continue
      out.push({
        db,
        name,
        rowFormat: cellText(r[1]),
        createSql: await showCreateTable(s, db, name),
        estimatedRows: Number(cellText(r[2])) || 0,
      })
    }
  }
  return out
}

/**
 * The physical tables' definitions read again after the backup, which are the ones stored:
 * their AUTO_INCREMENT counter is at or past the backup's point, and a counter above the
 * rows only leaves a gap in the numbering (the restore sets it after the import; InnoDB
 * never lowers it below the largest value present). Rejects when a definition changed in
 * anything but that counter (DDL during the capture): the stored definition must be the
 * tablespace's.
 */
export async function rereadDefinitions(
  s: MysqlSession,
  tables: readonly PhysicalTable[],
): Promise<PhysicalTable[]> {
  const out: PhysicalTable[] = []
  for (const t of tables) {
    const now = await showCreateTable(s, t.db, t.name).catch(() => undefined)
    if (now === undefined || withoutCounter(now) !== withoutCounter(t.createSql))
      throw new CofferError(
        'capture_failed',
        `The table ${t.db}.${t.name} changed during the physical capture; capture again.`,
      )
    out.push({ ...t, createSql: now })
  }
  return out
}

/** A SHOW CREATE TABLE text without its `AUTO_INCREMENT=` table option (after the columns). */
function withoutCounter(createSql: string): string {
  const i = createSql.lastIndexOf(')')
  return createSql.slice(0, i) + createSql.slice(i).replace(/ AUTO_INCREMENT=\d+/, '')
}
