import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import { CofferError, InvalidInputError } from '../errors.js'
import { silentLogger, type Logger } from '../lib/index.js'
import { migrationsFor } from './migrations/index.js'
import type { Database } from './schema.js'
import { cachingStatements } from './statement-cache.js'
import type { StoreDialect } from './store-dialect.js'

/**
 * An open metadata store. `db` is the Kysely handle every query goes through. The store
 * owns the connection pool: `close` ends it.
 *
 * Concurrency: with SQLite, one process (one `coffer serve`) owns the file; Kysely runs one
 * query at a time on its single connection, and a transaction holds it. With PostgreSQL,
 * many processes share the database; races are settled by constraints (see
 * `activities_one_busy`) and row locks, never by reading then writing.
 */
export interface Store {
  readonly db: Kysely<Database>
  readonly dialect: StoreDialect
  /** With PostgreSQL: where pg-boss keeps its tables (the store's schema + `_boss`). */
  readonly postgres?: { readonly connectionString: string; readonly schema: string }
  close(): Promise<void>
}

export interface OpenStoreOptions {
  /**
   * `postgres://…` (or `postgresql://…`) for PostgreSQL; otherwise the path of the SQLite
   * file (created with its directory when missing).
   */
  readonly location: string
  /** PostgreSQL schema to keep the tables in (default `public`); created when missing. */
  readonly schema?: string
  /** Run pending migrations (default true). */
  readonly migrate?: boolean
  /** Largest number of PostgreSQL connections (default 10). */
  readonly poolSize?: number
  readonly log?: Logger
}

/** Whether a store location names a PostgreSQL database. */
export function isPostgresLocation(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location)
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Opens (and by default migrates) the metadata store.
 *
 * @example
 * const store = await openStore({ location: join(dataDir, 'coffer.db') })
 * try { await store.db.selectFrom('projects').selectAll().execute() } finally { await store.close() }
 */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const log = opts.log ?? silentLogger
  const store = isPostgresLocation(opts.location)
    ? await openPostgres(opts)
    : await openSqlite(opts.location)
  if (opts.migrate ?? true) {
    try {
      await migrate(store)
    } catch (e) {
      await store.close()
      throw e
    }
  }
  log.info({ dialect: store.dialect }, 'store open')
  return store
}

async function openSqlite(path: string): Promise<Store> {
  await mkdir(dirname(path), { recursive: true })
  // Password hashes, sealed secrets and the audit log: readable by the server's user only.
  // SQLite gives its WAL and shared-memory files the database file's mode.
  if (path !== ':memory:') {
    await writeFile(path, '', { flag: 'a', mode: 0o600 })
    await chmod(path, 0o600)
  }
  const sqlite = new BetterSqlite3(path)
  // WAL lets readers (an SSE stream) proceed while a writer commits; foreign keys are off
  // by default in SQLite; the busy timeout covers a second process (an operator's
  // `sqlite3` shell) holding a lock for a moment.
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('synchronous = NORMAL')
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: cachingStatements(sqlite) }),
  })
  return { db, dialect: 'sqlite', close: () => db.destroy() }
}

/** int8 (bigint: sizes, counts) as a JS number: the values stay far below 2^53. */
const PG_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === 20
      ? (v: string) => Number(v)
      : (pg.types.getTypeParser(
          oid,
          format ?? 'text',
        ) as unknown)) as typeof pg.types.getTypeParser,
}

async function openPostgres(opts: OpenStoreOptions): Promise<Store> {
  const schema = opts.schema ?? 'public'
  if (!SCHEMA_NAME.test(schema)) throw new InvalidInputError('schema', 'Invalid schema name.')
  const pool = new pg.Pool({
    connectionString: opts.location,
    max: opts.poolSize ?? 10,
    types: PG_TYPES,
    // Every connection works in the store's schema, so queries need no qualification.
    options: `-c search_path=${schema}`,
  })
  // An idle client that loses its connection emits 'error' on the pool; without a
  // listener that would end the process. The next query gets a fresh connection.
  pool.on('error', () => undefined)
  try {
    await pool.query(`create schema if not exists ${schema}`)
  } catch (e) {
    await pool.end()
    throw new CofferError('backend', 'The metadata database cannot be reached.', { cause: e })
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return {
    db,
    dialect: 'postgres',
    postgres: { connectionString: opts.location, schema },
    close: () => db.destroy(),
  }
}

async function migrate(store: Store): Promise<void> {
  const migrator = new Migrator({
    db: store.db,
    provider: migrationsFor(store.dialect),
    ...(store.postgres ? { migrationTableSchema: store.postgres.schema } : {}),
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
    throw new CofferError('internal', `The metadata store could not be migrated (${failed}).`, {
      cause: error,
    })
  }
}
