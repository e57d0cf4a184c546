import type { ControlContext } from '../../src/control/index.js'

/**
 * A digest of everything a refused request must not change: the rows of every table that
 * holds state (tokens' last use and the audit of sign-ins aside, which reads do touch).
 */
export async function storeDigest(ctx: ControlContext): Promise<string> {
  const db = ctx.store.db
  const parts = {
    users: await db
      .selectFrom('users')
      .select(['id', 'name', 'operator', 'password_hash'])
      .orderBy('id')
      .execute(),
    tokens: await db.selectFrom('tokens').select(['id', 'user_id', 'kind']).orderBy('id').execute(),
    projects: await db
      .selectFrom('projects')
      .select(['id', 'title', 'plan'])
      .orderBy('id')
      .execute(),
    grants: await db
      .selectFrom('grants')
      .selectAll()
      .orderBy('user_id')
      .orderBy('project_id')
      .orderBy('environment')
      .execute(),
    environments: await db
      .selectFrom('environments')
      .select(['project_id', 'name', 'type', 'status', 'mounts', 'label', 'git_dir'])
      .orderBy('project_id')
      .orderBy('name')
      .execute(),
    activities: await db
      .selectFrom('activities')
      .select(['id', 'state', 'result', 'cancel_requested'])
      .orderBy('id')
      .execute(),
    snapshots: await db
      .selectFrom('snapshots')
      .select(['id', 'deleted_at', 'expired_at'])
      .orderBy('id')
      .execute(),
    schedules: await db.selectFrom('schedules').select(['id', 'cron']).orderBy('id').execute(),
    channels: await db.selectFrom('channels').select(['id', 'target']).orderBy('id').execute(),
    settings: await db.selectFrom('settings').select(['key']).orderBy('key').execute(),
    audit: await db
      .selectFrom('audit')
      .select(['action', 'project_id', 'target'])
      .where('action', 'not in', ['auth.login', 'auth.login_failed'])
      .orderBy('id')
      .execute(),
  }
  return JSON.stringify(parts)
}
