import { errorNumber } from './session.js'

/** ER_TABLE_DEF_CHANGED: a table's definition changed after the transaction's snapshot. */
const TABLE_DEF_CHANGED = 1412

/**
 * What the operator can do about a capture's failure that the server explains, as a sentence
 * to append to the message (or ''). A capture reads every table inside snapshot transactions
 * opened at one point; DDL on a table after that point (ALTER TABLE, TRUNCATE, OPTIMIZE TABLE,
 * as a deployment's schema upgrade runs) makes the server refuse to read it, as it does for
 * mysqldump and mydumper.
 */
export function captureRemedyOf(e: unknown): string {
  if (errorNumber(e) === TABLE_DEF_CHANGED)
    return " A table's definition changed during the capture (ALTER TABLE, TRUNCATE or OPTIMIZE TABLE after its snapshot point, as a schema upgrade does): nothing was stored; take the snapshot again once the change is done."
  return ''
}
