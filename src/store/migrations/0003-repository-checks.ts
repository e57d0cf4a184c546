import type { Kysely } from 'kysely'

/** The checks run on each project's repository, for its health page. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('repository_checks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) =>
      c.notNull().references('projects.id').onDelete('cascade'),
    )
    .addColumn('checked_at', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('read_data', 'integer', (c) => c.notNull())
    .addColumn('errors', 'integer', (c) => c.notNull())
    .addColumn('snapshots', 'integer', (c) => c.notNull())
    .addColumn('packs', 'integer', (c) => c.notNull())
    .addColumn('packs_read', 'integer', (c) => c.notNull())
    .addColumn('findings', 'text', (c) => c.notNull())
    .addColumn('checked_by', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('repository_checks_project')
    .on('repository_checks')
    .columns(['project_id', 'checked_at'])
    .execute()
}
