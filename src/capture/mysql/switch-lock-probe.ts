import { CofferError } from '../../errors.js'
import type { Logger } from '../../lib/index.js'
import type { DatabaseSwitch } from './database-switch.js'
import { qualified } from './names.js'
import { cellText, errorNumber, serverMessage, type MysqlSession } from './session.js'
import { keepSessionSettings } from './table-patch.js'

/** How long the probe waits for a table another connection holds, in seconds. */
export const SWITCH_LOCK_WAIT_SECONDS = 5

const ER_LOCK_WAIT_TIMEOUT = 1205
/** ER_DBACCESS_DENIED_ERROR, ER_TABLEACCESS_DENIED_ERROR. */
const ACCESS_DENIED = new Set([1044, 1142])

/**
 * Before a restore's point of no return: takes, and gives back at once, the write lock of
 * every target table its switch renames, drops, patches or changes the triggers of, waiting
 * `SWITCH_LOCK_WAIT_SECONDS` at most. A connection in a long transaction that read one of
 * them (a report, a stuck worker) holds its metadata lock until it ends, and the switch's
 * DROP TRIGGER or RENAME would wait for it, past the point of no return, with the
 * application's queries on the table queued behind (the server's lock_wait_timeout is a day
 * by default). Found here, the restore is refused with nothing changed, naming the oldest
 * open transaction. Run before the patches applied ahead start: their transaction holds
 * their tables until the switch.
 */
export async function probeSwitchLocks(
  s: MysqlSession,
  switches: readonly DatabaseSwitch[],
  log: Logger,
): Promise<void> {
  const names: string[] = []
  for (const sw of switches) {
    const wanted = new Set([
      ...sw.reload,
      ...sw.drop,
      ...sw.tables,
      ...(sw.patch ?? []).map((p) => p.table),
    ])
    if (wanted.size === 0) continue
    const rows = await s.query(
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE <> 'VIEW'",
      [sw.to],
    )
    for (const r of rows) {
      const t = cellText(r[0])
      if (wanted.has(t)) names.push(qualified(sw.to, t))
    }
  }
  if (names.length === 0) return
  const restore = await keepSessionSettings(s, ['lock_wait_timeout'])
  try {
    await s.query(`SET SESSION lock_wait_timeout = ${SWITCH_LOCK_WAIT_SECONDS}`)
    await s.query(`LOCK TABLES ${names.map((n) => `${n} WRITE`).join(', ')}`)
    await s.query('UNLOCK TABLES')
  } catch (e) {
    // A user without the LOCK TABLES privilege restores as before, unprobed.
    if (ACCESS_DENIED.has(errorNumber(e) ?? 0)) {
      log.warn({ error: serverMessage(e) }, 'the switch lock probe is not allowed: skipped')
      return
    }
    if (errorNumber(e) !== ER_LOCK_WAIT_TIMEOUT) throw e
    throw new CofferError(
      'conflict',
      `The restore's switch needs its tables to itself, and another connection has held one of them for more than ${SWITCH_LOCK_WAIT_SECONDS} s${await oldestTransaction(s)}. Nothing was changed: end that transaction (or wait for it) and restore again.`,
      { cause: e },
    )
  } finally {
    await s.query('UNLOCK TABLES').catch(() => undefined)
    await restore().catch(() => undefined)
  }
}

/** ", probably the oldest open transaction: connection N of user@host, open for S s" or ''. */
async function oldestTransaction(s: MysqlSession): Promise<string> {
  const [row] = await s
    .query(
      `SELECT t.trx_mysql_thread_id, p.USER, p.HOST, TIMESTAMPDIFF(SECOND, t.trx_started, NOW())
       FROM information_schema.INNODB_TRX t
       LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
       WHERE t.trx_mysql_thread_id <> CONNECTION_ID()
       ORDER BY t.trx_started LIMIT 1`,
    )
    .catch(() => [])
  if (!row) return ''
  const [id, user, host, seconds] = row.map(cellText)
  return `, probably the oldest open transaction: connection ${id} of ${user}@${host}, open for ${seconds} s`
}
