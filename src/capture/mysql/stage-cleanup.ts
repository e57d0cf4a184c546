import type { Logger } from '../../lib/index.js'
import { quoteIdent, sideDatabasePattern } from './names.js'
import type { MysqlSession } from './session.js'

/**
 * Drops the staging and trash databases a killed restore into `target` left behind
 * (`<target>__coffer_stage_*`, `<target>__coffer_trash_*`). Call it holding the target's
 * restore lock, so that a running restore's databases are never taken. Returns the names
 * dropped.
 */
export async function cleanupStaging(
  s: MysqlSession,
  target: string,
  log: Logger,
): Promise<string[]> {
  const rows = await s.query(
    'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
    [sideDatabasePattern(target)],
  )
  const names = rows.map((r) => String(r[0]))
  await dropDatabases(s, names)
  if (names.length > 0) log.info({ databases: names }, 'stale staging databases dropped')
  return names
}

/** Drops the named databases, those that exist. */
export async function dropDatabases(s: MysqlSession, names: readonly string[]): Promise<void> {
  for (const n of names) await s.query(`DROP DATABASE IF EXISTS ${quoteIdent(n)}`)
}
