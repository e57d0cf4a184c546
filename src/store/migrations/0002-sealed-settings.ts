import type { Kysely } from 'kysely'

/**
 * Settings that are secrets, sealed under the master key:
 * - `projects.repo_options`: a project's own repository settings (S3 credentials, region,
 *   CA…); null when the server's defaults apply.
 * - `channels.target_sealed`: a webhook's full URL (chat services put their token in the
 *   path; a URL may carry a password); `target` then keeps a form safe to show.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('projects').addColumn('repo_options', 'text').execute()
  await db.schema.alterTable('channels').addColumn('target_sealed', 'text').execute()
}
