import type { Kysely } from 'kysely'

/**
 * An environment's pending restore decision (snapshots' RestoreCommitRecord, JSON): written
 * when a restore passes its point of no return, cleared when it has finished; a process that
 * dies in between leaves it for the staging cleanup, which finishes that restore.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('environments').addColumn('restore_decision', 'text').execute()
}
