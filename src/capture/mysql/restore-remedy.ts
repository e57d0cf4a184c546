import { errorNumber } from './session.js'

/**
 * ER_NOT_ALLOWED_COMMAND (MySQL 5.7, older MariaDB), ER_CLIENT_LOCAL_FILES_DISABLED (MySQL 8)
 * and ER_LOAD_INFILE_CAPABILITY_DISABLED (MariaDB 10.6 and later).
 */
const LOCAL_INFILE_REFUSED = new Set([1148, 3948, 4166])

/**
 * What the operator can do about a restore's failure that the server explains, as a
 * sentence to append to the message (or ''). MySQL 8 ships with `local_infile` off, and
 * every table a restore loads goes through `LOAD DATA LOCAL INFILE`.
 */
export function remedyOf(e: unknown): string {
  const n = errorNumber(e)
  if (n !== undefined && LOCAL_INFILE_REFUSED.has(n))
    return " Tables are loaded with LOAD DATA LOCAL INFILE: turn the server's local_infile on (SET GLOBAL local_infile = ON, and local_infile = 1 in its configuration)."
  return ''
}
