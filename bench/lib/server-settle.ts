import { setTimeout as sleep } from 'node:timers/promises'
import type { ShopSession } from './shop-dataset.js'

/**
 * Waits until the MySQL/MariaDB server has written back what the step before it wrote: its
 * redo log's checkpoint age (InnoDB's unflushed changes) under a tenth of the most it may
 * reach, or `limitMs` at most. After a load of millions of rows the age is near its maximum
 * and the server flushes pages for seconds; a transaction that needs log space meanwhile waits
 * for that flushing, so without this the next step, whatever its tool, pays for the previous
 * one's writes (as `settleDisk` prevents for the page cache). Servers without these status
 * variables (MySQL) are not waited for.
 */
export async function settleServer(session: ShopSession, limitMs = 60_000): Promise<void> {
  const started = Date.now()
  for (;;) {
    const [rows] = await session.query("SHOW GLOBAL STATUS LIKE 'Innodb_checkpoint_%age'")
    const status = new Map(
      (rows as { Variable_name: string; Value: string }[]).map((r) => [
        r.Variable_name,
        Number(r.Value),
      ]),
    )
    const age = status.get('Innodb_checkpoint_age')
    const max = status.get('Innodb_checkpoint_max_age')
    if (age === undefined || !max || age < max / 10 || Date.now() - started > limitMs) return
    await sleep(250)
  }
}
