import type { Kysely, Migration, MigrationProvider } from 'kysely'
import type { StoreDialect } from '../store-dialect.js'
import { up as initial } from './0001-initial.js'
import { up as sealedSettings } from './0002-sealed-settings.js'
import { up as repositoryChecks } from './0003-repository-checks.js'
import { up as oneAutomaticSchedule } from './0004-one-automatic-schedule.js'
import { up as repositorySizes } from './0005-repository-sizes.js'
import { up as restoreDecision } from './0006-restore-decision.js'

type Up = (db: Kysely<unknown>, dialect: StoreDialect) => Promise<void>

const MIGRATIONS: readonly (readonly [string, Up])[] = [
  ['0001-initial', initial],
  ['0002-sealed-settings', sealedSettings],
  ['0003-repository-checks', repositoryChecks],
  ['0004-one-automatic-schedule', oneAutomaticSchedule],
  ['0005-repository-sizes', repositorySizes],
  ['0006-restore-decision', restoreDecision],
]

/** The migrations as Kysely's Migrator wants them, bound to the dialect they run on. */
export function migrationsFor(dialect: StoreDialect): MigrationProvider {
  return {
    getMigrations: async () => {
      const out: Record<string, Migration> = {}
      for (const [name, up] of MIGRATIONS) out[name] = { up: (db) => up(db, dialect) }
      return out
    },
  }
}
