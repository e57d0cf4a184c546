import type { Logger } from '../../lib/index.js'
import { cellText, type MysqlSession } from './session.js'

/**
 * What lets a delta restore know that a live table still holds a snapshot's rows without
 * reading them (docs/MYSQL.md, "Delta without reading"): the server it was captured on, InnoDB's
 * ID of the table, and the table's UPDATE_TIME at the snapshot point.
 *
 * Why that is enough, on MariaDB's InnoDB (measured on 10.11): a transaction that changed a
 * table sets the table's UPDATE_TIME, at its commit, to the second the transaction started;
 * TRUNCATE, a rebuilding ALTER, and DROP/CREATE give the name a new table ID; a RENAME swap
 * moves IDs between names; a restart forgets every UPDATE_TIME (NULL). So a commit after the
 * snapshot point leaves the pair as it was only if its transaction started in the very
 * second of the recorded UPDATE_TIME. The capture rules that out before it records the pair:
 * the second is before the global read lock was taken (a transaction starting later has a
 * later second), and no transaction open at the lock started in it (the open ones are listed
 * under the lock, when none can commit).
 */
export interface TableFingerprint {
  /** The server: `server_id@hostname:port`. */
  readonly server: string
  /**
   * When the server started (seconds since 1970, ±1): a restart forgets every UPDATE_TIME
   * anyway, so this only tells apart two servers that share the identity above.
   */
  readonly bootTime: number
  readonly tableId: number
  /** UPDATE_TIME in seconds since 1970 (the server's clock). */
  readonly updateTime: number
}

/** A table's fingerprint now, as far as the server knows one (null: none to trust). */
interface LiveFingerprint {
  readonly tableId: number
  readonly updateTime: number | null
}

/** The server's identity in fingerprints: server_id, host name and port, and its start. */
export interface ServerIdentity {
  readonly server: string
  readonly bootTime: number
}

export async function serverIdentity(s: MysqlSession): Promise<ServerIdentity> {
  const [row] = await s.query(
    `SELECT @@server_id, @@hostname, @@port, UNIX_TIMESTAMP() - VARIABLE_VALUE
     FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'`,
  )
  return {
    server: `${cellText(row?.[0])}@${cellText(row?.[1])}:${cellText(row?.[2])}`,
    bootTime: Number(cellText(row?.[3])),
  }
}

// Names InnoDB stores as they are in its dictionary (others are encoded as in file names,
// and comparing them would need the encoding): no fingerprint for the rest.
const PLAIN_NAME = /^[A-Za-z0-9_]+$/

/**
 * The table IDs and UPDATE_TIMEs of database `db`'s InnoDB tables (not partitioned; plain
 * names). Needs the PROCESS privilege (INNODB_SYS_TABLES).
 */
export async function liveFingerprints(
  s: MysqlSession,
  db: string,
): Promise<Map<string, LiveFingerprint>> {
  const out = new Map<string, LiveFingerprint>()
  if (!PLAIN_NAME.test(db)) return out
  const rows = await s.query(
    `SELECT t.TABLE_NAME, UNIX_TIMESTAMP(t.UPDATE_TIME), i.TABLE_ID
     FROM information_schema.TABLES t
     JOIN information_schema.INNODB_SYS_TABLES i ON i.NAME = CONCAT(t.TABLE_SCHEMA, '/', t.TABLE_NAME)
     WHERE t.TABLE_SCHEMA = ? AND t.ENGINE = 'InnoDB' AND t.TABLE_TYPE = 'BASE TABLE'`,
    [db],
  )
  for (const r of rows) {
    const name = cellText(r[0])
    if (!PLAIN_NAME.test(name)) continue
    const updated = r[1] === null || r[1] === undefined ? null : Math.floor(Number(cellText(r[1])))
    out.set(name, { tableId: Number(cellText(r[2])), updateTime: updated })
  }
  return out
}

/**
 * At the snapshot point, with the global read lock held since `lockSecond` (the server's
 * UNIX_TIMESTAMP() right after it was taken): the fingerprints the server can vouch for,
 * per database and table. Without the privilege to read them: none (the log says so), and
 * delta restores read the tables as before.
 */
export async function vouchedFingerprints(
  s: MysqlSession,
  databases: readonly string[],
  lockSecond: number,
  log: Logger,
): Promise<Map<string, Map<string, TableFingerprint>>> {
  const out = new Map<string, Map<string, TableFingerprint>>()
  try {
    const identity = await serverIdentity(s)
    const open = new Set(
      (
        await s.query(
          'SELECT DISTINCT UNIX_TIMESTAMP(trx_started) FROM information_schema.INNODB_TRX',
        )
      ).map((r) => Math.floor(Number(cellText(r[0])))),
    )
    for (const db of databases) {
      const vouched = new Map<string, TableFingerprint>()
      for (const [name, fp] of await liveFingerprints(s, db)) {
        const t = fp.updateTime
        if (t !== null && t < lockSecond && !open.has(t))
          vouched.set(name, { ...identity, tableId: fp.tableId, updateTime: t })
      }
      out.set(db, vouched)
    }
  } catch (e) {
    log.info(
      { reason: e instanceof Error ? e.message : String(e) },
      'table fingerprints not recorded: delta restores of this snapshot read every table',
    )
    out.clear()
  }
  return out
}

/** Whether the live table `name` of the restore's target still has fingerprint `fp`. */
export function stillUnchanged(
  fp: TableFingerprint | undefined,
  server: ServerIdentity | undefined,
  live: ReadonlyMap<string, LiveFingerprint>,
  name: string,
): boolean {
  const now = live.get(name)
  return fp !== undefined && server !== undefined && now !== undefined
    ? sameFingerprint(fp, { ...server, ...now })
    : false
}

/**
 * Whether two fingerprints are of one table unchanged between them: the same server (its
 * start, read twice, may differ by a second) and the same table ID and UPDATE_TIME.
 */
export function sameFingerprint(
  a: TableFingerprint,
  b: ServerIdentity & { readonly tableId: number; readonly updateTime: number | null },
): boolean {
  return (
    a.server === b.server &&
    typeof a.bootTime === 'number' &&
    Math.abs(a.bootTime - b.bootTime) <= 1 &&
    a.tableId === b.tableId &&
    a.updateTime === b.updateTime
  )
}
