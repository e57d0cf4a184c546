import type { Kysely } from 'kysely'

/**
 * Samples of each project's repository size, for its chart over time. The key is the
 * project and the minute: a sample taken again within a minute replaces the figures (an
 * upsert on the key, atomic on both SQLite and PostgreSQL), so the table grows by at most one
 * row per project and minute however often the figures are computed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('repository_sizes')
    .addColumn('project_id', 'text', (c) =>
      c.notNull().references('projects.id').onDelete('cascade'),
    )
    .addColumn('taken_at', 'text', (c) => c.notNull())
    .addColumn('stored_bytes', 'bigint', (c) => c.notNull())
    .addColumn('packs', 'bigint', (c) => c.notNull())
    .addColumn('snapshots', 'integer', (c) => c.notNull())
    .addColumn('snapshot_bytes', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('repository_sizes_pkey', ['project_id', 'taken_at'])
    .execute()
}
