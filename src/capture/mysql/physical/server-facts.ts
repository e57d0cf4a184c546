import { cellText, type MysqlSession } from '../session.js'

/** What decides whether a tablespace of one server can be imported into another. */
export interface ServerFacts {
  readonly version: string
  readonly innodbPageSize: number
  /** Absolute, with a trailing `/` as the server reports it. */
  readonly datadir: string
}

export async function readServerFacts(s: MysqlSession): Promise<ServerFacts> {
  const r = (await s.query('SELECT VERSION(), @@innodb_page_size, @@datadir'))[0] ?? []
  return {
    version: cellText(r[0]),
    innodbPageSize: Number(cellText(r[1])),
    datadir: cellText(r[2]),
  }
}

/**
 * The release series of a version string (`10.11.19-MariaDB-0+deb12u1` → `10.11`). InnoDB
 * guarantees `IMPORT TABLESPACE` only between servers of one series (MariaDB manual,
 * "InnoDB File-Per-Table Tablespaces", "Transportable Tablespaces"): the `.cfg` and the page
 * formats may change between series.
 */
export function releaseSeries(version: string): string {
  const m = /^(\d+)\.(\d+)/.exec(version)
  return m ? `${m[1]}.${m[2]}` : version
}

/** MariaDB or MySQL, from the version string (MariaDB's always says so). */
export function serverFlavor(version: string): 'mariadb' | 'mysql' {
  return /mariadb/i.test(version) ? 'mariadb' : 'mysql'
}
