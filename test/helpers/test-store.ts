import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import pg from 'pg'
import { openStore, type Store, type StoreDialect } from '../../src/store/index.js'
import { makeTempDir } from './tmp-dir.js'

/** The PostgreSQL that tests use (trust authentication on loopback). */
export const TEST_POSTGRES_URL =
  process.env.COFFER_TEST_POSTGRES ?? 'postgres://root@127.0.0.1:5432/test'

/** Both stores: suites loop over these (STYLE.md: one suite over real databases). */
export const STORE_DIALECTS_UNDER_TEST: readonly StoreDialect[] = ['sqlite', 'postgres']

export interface TestStore {
  readonly store: Store
  /** What `coffer serve --store` would be given (the SQLite path or the PostgreSQL URL). */
  readonly location: string
  /** PostgreSQL schema of this test, so that tests run in parallel. */
  readonly schema?: string
  cleanup(): Promise<void>
}

/** A schema name unique to one test, from its label. */
export function testSchemaName(label: string): string {
  const safe = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 40)
  return `t_${safe}_${randomBytes(4).toString('hex')}`
}

/** A fresh, migrated store of `dialect`: its own SQLite file, or its own PostgreSQL schema. */
export async function makeTestStore(dialect: StoreDialect, label: string): Promise<TestStore> {
  if (dialect === 'sqlite') {
    const tmp = await makeTempDir(`store-${label}`)
    const location = join(tmp.path, 'coffer.db')
    const store = await openStore({ location })
    return {
      store,
      location,
      cleanup: async () => {
        await store.close()
        await tmp.cleanup()
      },
    }
  }
  const schema = testSchemaName(label)
  const store = await openStore({ location: TEST_POSTGRES_URL, schema, poolSize: 4 })
  return {
    store,
    location: TEST_POSTGRES_URL,
    schema,
    cleanup: async () => {
      await store.close()
      await dropSchema(schema)
    },
  }
}

/** Drops a test's PostgreSQL schema (and pg-boss's beside it). */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL })
  await client.connect()
  try {
    await client.query(`drop schema if exists ${schema} cascade`)
    await client.query(`drop schema if exists ${schema}_boss cascade`)
  } finally {
    await client.end()
  }
}
