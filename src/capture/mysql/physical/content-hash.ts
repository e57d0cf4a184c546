import { forEachLimit } from '../../../lib/index.js'
import { listTables, type TableInfo } from '../schema-reader.js'
import type { MysqlSession } from '../session.js'
import { SessionPool } from '../session-pool.js'
import { liveTableHash, planParts, tableReadOf } from '../table-parts.js'
import type { TableContent } from './physical-entry.js'
import type { PhysicalTable } from './physical-tables.js'

/**
 * The content hash of each physical table, keyed `db.table`, read on `sessions` (one table
 * per session at a time): the logical driver's hash (same ranges, same encoding, same
 * digest; table-parts.ts), so that the delta restore compares it with a live table exactly
 * as it does for a logical snapshot. Read inside the logical driver's snapshot transactions,
 * it is the hash of the rows at the snapshot's point, which is the tablespaces' point too.
 */
export async function hashTableContents(
  sessions: readonly MysqlSession[],
  tables: readonly PhysicalTable[],
  signal: AbortSignal,
): Promise<Map<string, TableContent>> {
  const pool = new SessionPool(sessions)
  const out = new Map<string, TableContent>()
  const dbs = [...new Set(tables.map((t) => t.db))]
  const infos = new Map<string, TableInfo>()
  await pool.use(async (s) => {
    for (const db of dbs) for (const t of await listTables(s, db)) infos.set(`${db}.${t.name}`, t)
  })
  await forEachLimit(
    tables.map((t) => infos.get(`${t.db}.${t.name}`)).filter((t) => t !== undefined),
    sessions.length,
    async (info, tableSignal) => {
      const read = tableReadOf(info)
      const content = await pool.use(async (s) => {
        const ranges = await planParts(s, read, info.estimatedRows)
        return {
          sha256: await liveTableHash(s, read, ranges, tableSignal),
          ...(read.splitColumn ? { splitColumn: read.splitColumn } : {}),
          ranges,
        }
      })
      out.set(`${info.db}.${info.name}`, content)
    },
    signal,
  )
  return out
}
