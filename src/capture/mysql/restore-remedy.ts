import { messageOf } from '../../errors.js'
import { sidePrefixPattern } from './names.js'
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
  if (n === ER_DBACCESS_DENIED_ERROR) return sideDatabaseRemedy(messageOf(e))
  return ''
}

const ER_DBACCESS_DENIED_ERROR = 1044

/**
 * A user granted its application's databases only (`GRANT ALL ON shop.*`, as hosting panels
 * and PaaS set them up) cannot create the side databases a restore stages in: the grant
 * that allows them, with the same LIKE pattern the restore's cleanup uses.
 */
function sideDatabaseRemedy(message: string): string {
  const m =
    /^Access denied for user (.+) to database '(.+)__coffer_(?:stage|trash|jrnl)_[0-9a-f]{8}'$/.exec(
      message,
    )
  if (!m) return ''
  const pattern = sidePrefixPattern(m[2]!).replaceAll('`', '``')
  return ` A restore stages each database in side databases beside it (${m[2]}__coffer_stage_…, _trash_…, _jrnl_…): grant the user all privileges on them (GRANT ALL ON \`${pattern}\`.* TO ${m[1]}).`
}
