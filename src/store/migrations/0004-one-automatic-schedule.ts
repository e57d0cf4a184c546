import { sql, type Kysely } from 'kysely'

/**
 * At most one automatic schedule per environment: requests (an environment created, a plan
 * changed) and the scheduler's tick may add it at the same moment.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('schedules_one_automatic')
    .on('schedules')
    .columns(['project_id', 'environment'])
    .unique()
    .where(sql.ref('kind'), '=', 'automatic')
    .execute()
}
