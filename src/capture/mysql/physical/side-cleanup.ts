import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../../../lib/index.js'
import { quoteIdent, sideDatabasePattern } from '../names.js'
import { errorNumber, type MysqlSession } from '../session.js'

/** ER_DB_DROP_RMDIR: the database's directory kept files the server does not know. */
const ER_DB_DROP_RMDIR = 1010

/**
 * Drops staging and trash databases of `target` (`only`, or every one a killed restore left
 * behind). A restore killed between writing a tablespace file and importing it leaves a
 * `.ibd`/`.cfg` the server does not own, and DROP DATABASE then fails to remove the
 * directory: those files are removed and the drop repeated. Call it holding the target's
 * restore lock, so that a running restore's databases are never taken.
 */
export async function dropSideDatabases(
  s: MysqlSession,
  target: string,
  datadir: string,
  log: Logger,
  only?: readonly string[],
): Promise<readonly string[]> {
  const names =
    only ??
    (
      await s.query(
        'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
        [sideDatabasePattern(target)],
      )
    ).map((r) => String(r[0]))
  for (const n of names) {
    // DROP DATABASE over tables whose tablespace is discarded waits on its own lock until
    // innodb_lock_wait_timeout when it drops a table before the tables whose foreign keys
    // reference it (MariaDB 10.11.19). Dropping the tables one by one, referencing tables
    // first, does not.
    await s.query('SET SESSION foreign_key_checks = 0')
    for (const t of await dropOrder(s, n))
      await s.query(`DROP TABLE IF EXISTS ${quoteIdent(n)}.${quoteIdent(t)}`)
    try {
      await s.query(`DROP DATABASE IF EXISTS ${quoteIdent(n)}`)
    } catch (e) {
      if (errorNumber(e) !== ER_DB_DROP_RMDIR || !/^[A-Za-z0-9_]+$/.test(n)) throw e
      const dir = join(datadir, n)
      for (const f of await readdir(dir))
        if (/\.(ibd|cfg)$/.test(f)) await rm(join(dir, f), { force: true })
      await s.query(`DROP DATABASE IF EXISTS ${quoteIdent(n)}`)
    }
  }
  if (names.length > 0 && !only) log.info({ databases: names }, 'side databases dropped')
  return names
}

/** Base tables of `db`, each after every table whose foreign keys reference it. */
async function dropOrder(s: MysqlSession, db: string): Promise<string[]> {
  const tables = (
    await s.query(
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE <> 'VIEW'",
      [db],
    )
  ).map((r) => String(r[0]))
  const links = (
    await s.query(
      `SELECT TABLE_NAME, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS
       WHERE CONSTRAINT_SCHEMA = ? AND UNIQUE_CONSTRAINT_SCHEMA = ?`,
      [db, db],
    )
  )
    .map((r) => ({ child: String(r[0]), parent: String(r[1]) }))
    .filter((l) => l.child !== l.parent)
  const out: string[] = []
  const left = new Set(tables)
  while (left.size > 0) {
    const free = [...left].filter((t) => !links.some((l) => l.parent === t && left.has(l.child)))
    // A cycle of foreign keys: take the rest as they come.
    for (const t of free.length > 0 ? free : [...left]) {
      out.push(t)
      left.delete(t)
    }
  }
  return out
}
