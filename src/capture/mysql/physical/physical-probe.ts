import { access, constants, stat } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { CofferError } from '../../../errors.js'
import { describeMysqlSource, type MysqlSource } from '../mysql-source.js'
import { openSession, serverMessage } from '../session.js'
import { MARIABACKUP, mariabackupVersion } from './mariabackup.js'
import { readServerFacts, serverFlavor } from './server-facts.js'

/**
 * Whether a physical capture of `source` can run from this process, and why (a clause for a
 * log line: "the data directory /var/lib/mysql/ is on this host").
 */
export type PhysicalProbe =
  | { readonly usable: true; readonly datadir: string; readonly why: string }
  | { readonly usable: false; readonly why: string }

/**
 * Checks what a physical capture needs (docs/PHYSICAL.md, "Environment snapshots"): the
 * server is MariaDB, `mariabackup` runs here, and the server's data directory
 * (`@@datadir`) is a directory this process can read and write, holding the directories of
 * the selected databases (so it is the server's own, not a same-named directory of another
 * machine). Changes nothing. Rejects only when the server cannot be reached
 * (`capture_failed`).
 */
export async function probePhysical(
  source: MysqlSource,
  signal: AbortSignal,
): Promise<PhysicalProbe> {
  const s = await openSession(source).catch((e: unknown) => {
    throw new CofferError(
      'capture_failed',
      `The MySQL server ${describeMysqlSource(source)} cannot be reached: ${serverMessage(e)}.`,
      { cause: e },
    )
  })
  const facts = await readServerFacts(s).finally(() => s.destroy())
  if (serverFlavor(facts.version) !== 'mariadb')
    return {
      usable: false,
      why: `the server runs ${facts.version}, not MariaDB`,
    }
  const tool = await mariabackupVersion(signal).then(
    () => undefined,
    (e: unknown) => {
      if (signal.aborted) throw signal.reason
      return serverMessage(e)
    },
  )
  if (tool !== undefined) return { usable: false, why: `${MARIABACKUP} does not run here` }
  const dir = facts.datadir
  try {
    if (!isAbsolute(dir)) throw new Error('not an absolute path')
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK)
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory')
    // Other names are stored encoded (`a-b` as `a@002db`).
    for (const db of source.databases.filter((d) => /^[A-Za-z0-9_]+$/.test(d)))
      if (!(await stat(join(dir, db))).isDirectory()) throw new Error(`no directory ${db}`)
  } catch {
    return {
      usable: false,
      why: `the data directory ${dir} is not accessible from this host`,
    }
  }
  return { usable: true, datadir: dir, why: `the data directory ${dir} is on this host` }
}
