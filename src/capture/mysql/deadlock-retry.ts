import type { Logger } from '../../lib/index.js'

/** InnoDB's error when it rolled a statement back to break a deadlock. */
const ER_LOCK_DEADLOCK = 1213
/** Loads of one part at most; a fourth deadlock in a row is an error. */
const ATTEMPTS = 4

/** Whether `e` is the server's deadlock error (its statement was rolled back whole). */
export function isDeadlock(e: unknown): boolean {
  return (e as { errno?: unknown } | null)?.errno === ER_LOCK_DEADLOCK
}

/**
 * Runs `load` (one `LOAD DATA` of a part of a table) again when InnoDB chose it as the victim
 * of a deadlock. Parts of one table load at once on several connections, and their locks on
 * the table's secondary indexes can cross; the victim's statement, in autocommit, was rolled
 * back whole, so loading the part again from its start gives exactly its rows. `load` gets
 * the attempt (1, 2, …) and must start its input afresh; other errors are thrown at once.
 */
export async function retryingDeadlocks<T>(
  what: string,
  log: Logger,
  load: (attempt: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await load(attempt)
    } catch (e) {
      if (!isDeadlock(e) || attempt >= ATTEMPTS) throw e
      log.warn({ part: what, attempt }, 'a load was chosen to break a deadlock; loading it again')
    }
  }
}
