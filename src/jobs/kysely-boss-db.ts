import { CompiledQuery, type Kysely } from 'kysely'

/** pg-boss's one-method database port (its `Db` type), as we use it. */
export interface BossDb {
  executeSql(text: string, values: unknown[]): Promise<{ rows: unknown[] }>
}

/**
 * pg-boss's database port over a Kysely handle — typically the transaction that inserts
 * an activity, so that its job is written in that same transaction (STYLE.md; pg-boss's
 * `src/adapters/kysely.ts` does the same).
 */
export function kyselyBossDb(db: Kysely<unknown>): BossDb {
  return {
    executeSql: async (text, values) => {
      const r = await db.executeQuery(CompiledQuery.raw(text, values))
      return { rows: r.rows }
    },
  }
}
