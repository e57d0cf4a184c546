import { InvalidInputError } from '../../errors.js'

/**
 * Where a MySQL/MariaDB server is and what to capture from it. Parsed from a connection URL
 * by `parseMysqlUrl`; `password` never leaves this object in a message or a log (see
 * `describeMysqlSource` and `toJSON`).
 */
export interface MysqlSource {
  readonly host: string
  readonly port: number
  /** A Unix socket path; when set, host and port are not used. */
  readonly socket?: string
  readonly user: string
  readonly password: string
  /** Databases to capture; empty means every database that is not a system one. */
  readonly databases: readonly string[]
  /** `db` or `db.table` patterns to leave out. */
  readonly exclude: readonly string[]
  /** `db.table` names to keep (if any is given, only these tables of their databases). */
  readonly includeTables: readonly string[]
  /** Parallel connections for capture and restore. */
  readonly connections: number
}

/** Databases no capture touches: the server's own. */
export const SYSTEM_DATABASES = [
  'mysql',
  'information_schema',
  'performance_schema',
  'sys',
] as const

const DEFAULT_CONNECTIONS = 4

/**
 * Parses `mysql://user:password@host:port/db1,db2?socket=/run/mysqld/mysqld.sock&exclude=db.t`
 * (`mariadb://` too). Query parameters: `socket`, `exclude` and `table` (repeatable or
 * comma-separated; `db` or `db.table`), `connections` (1–32). User and password are
 * percent-decoded.
 *
 * @example
 * parseMysqlUrl('mysql://root@127.0.0.1/shop') // { host: '127.0.0.1', port: 3306, databases: ['shop'], … }
 */
export function parseMysqlUrl(url: string): MysqlSource {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new InvalidInputError(
      'mysql',
      'The MySQL URL does not parse: expected mysql://user:password@host:port/database.',
    )
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:')
    throw new InvalidInputError(
      'mysql',
      `The MySQL URL must start with mysql:// or mariadb://, not ${u.protocol}//.`,
    )
  const known = new Set(['socket', 'exclude', 'table', 'connections'])
  for (const k of u.searchParams.keys())
    if (!known.has(k)) throw new InvalidInputError('mysql', `Unknown MySQL URL parameter "${k}".`)
  const list = (key: string): string[] =>
    u.searchParams
      .getAll(key)
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter((v) => v !== '')
  const socket = u.searchParams.get('socket') ?? undefined
  if (!u.hostname && !socket)
    throw new InvalidInputError('mysql', 'The MySQL URL names no host and no ?socket=.')
  const port = u.port ? Number(u.port) : 3306
  const connections = u.searchParams.has('connections')
    ? Number(u.searchParams.get('connections'))
    : DEFAULT_CONNECTIONS
  if (!Number.isInteger(connections) || connections < 1 || connections > 32)
    throw new InvalidInputError('mysql', 'The MySQL URL parameter connections must be 1 to 32.')
  const databases = decodeURIComponent(u.pathname.replace(/^\//, ''))
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')
  for (const d of databases) checkName(d)
  const includeTables = list('table')
  for (const t of includeTables)
    if (!t.includes('.'))
      throw new InvalidInputError('mysql', `The table "${t}" must be written as database.table.`)
  const source: MysqlSource = {
    host: u.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    port,
    ...(socket ? { socket } : {}),
    user: decodeURIComponent(u.username) || 'root',
    password: decodeURIComponent(u.password),
    databases,
    exclude: list('exclude'),
    includeTables,
    connections,
  }
  return withRedaction(source)
}

/** The source without its password, for logs, errors and metadata. */
export function describeMysqlSource(s: MysqlSource): string {
  const where = s.socket ? `socket ${s.socket}` : `${s.host}:${s.port}`
  return `mysql://${s.user}@${where}`
}

/** Whether the capture of `source` takes `db` (not a system database, not excluded). */
export function takesDatabase(source: MysqlSource, db: string): boolean {
  if ((SYSTEM_DATABASES as readonly string[]).includes(db.toLowerCase())) return false
  if (source.databases.length > 0 && !source.databases.includes(db)) return false
  return !source.exclude.includes(db)
}

/** Whether the capture of `source` takes table `table` of `db`. */
export function takesTable(source: MysqlSource, db: string, table: string): boolean {
  if (source.exclude.includes(`${db}.${table}`)) return false
  const ofDb = source.includeTables.filter((t) => t.startsWith(`${db}.`))
  return ofDb.length === 0 || ofDb.includes(`${db}.${table}`)
}

function checkName(name: string): void {
  // MariaDB limits database names to 64 characters (manual, "Identifier Names").
  if (name.length > 64)
    throw new InvalidInputError(
      'mysql',
      `The database name "${name}" is longer than 64 characters.`,
    )
}

/**
 * Serializes and inspects without the password, so that a stray log of the object leaks
 * nothing. The password stays an ordinary field so that spreading the object keeps it.
 */
function withRedaction(s: MysqlSource): MysqlSource {
  const redacted = (): object => ({ ...s, password: s.password ? '[redacted]' : '' })
  Object.defineProperty(s, 'toJSON', { enumerable: false, value: redacted })
  Object.defineProperty(s, Symbol.for('nodejs.util.inspect.custom'), {
    enumerable: false,
    value: redacted,
  })
  return s
}
