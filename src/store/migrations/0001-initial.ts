import { sql, type Kysely } from 'kysely'
import {
  ACTIVITY_RESULTS,
  ACTIVITY_STATES,
  ACTIVITY_TYPES,
  BUSY_STATES,
  CHANNEL_KINDS,
  DELIVERY_STATES,
  ENVIRONMENT_STATUSES,
  ENVIRONMENT_TYPES,
  PLANS,
  ROLES,
  SCHEDULE_KINDS,
  TOKEN_KINDS,
} from '../enums.js'
import type { StoreDialect } from '../store-dialect.js'

/** `column IN ('a', 'b')` for a CHECK constraint, from an `as const` list. */
function oneOf(column: string, values: readonly string[], nullable = false) {
  const list = sql.join(values.map((v) => sql.lit(v)))
  return nullable
    ? sql`${sql.ref(column)} is null or ${sql.ref(column)} in (${list})`
    : sql`${sql.ref(column)} in (${list})`
}

/** The first schema: every table of src/store/schema.ts. */
export async function up(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text')
    .addColumn('operator', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('expires_at', 'text')
    .addCheckConstraint('tokens_kind', oneOf('kind', TOKEN_KINDS))
    .execute()
  await db.schema.createIndex('tokens_user').on('tokens').column('user_id').execute()

  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('plan', 'text', (c) => c.notNull())
    .addColumn('repo_location', 'text', (c) => c.notNull())
    .addColumn('repo_secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addCheckConstraint('projects_plan', oneOf('plan', PLANS))
    .execute()

  await db.schema
    .createTable('grants')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('project_id', 'text', (c) =>
      c.notNull().references('projects.id').onDelete('cascade'),
    )
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('grants_pk', ['user_id', 'project_id', 'environment'])
    .addCheckConstraint('grants_role', oneOf('role', ROLES))
    .execute()

  await db.schema
    .createTable('environments')
    .addColumn('project_id', 'text', (c) =>
      c.notNull().references('projects.id').onDelete('cascade'),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('mounts', 'text', (c) => c.notNull())
    .addColumn('secret_spec', 'text', (c) => c.notNull())
    .addColumn('service_names', 'text', (c) => c.notNull())
    .addColumn('git_dir', 'text')
    .addColumn('label', 'text')
    .addColumn('staging_dirty', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('environments_pk', ['project_id', 'name'])
    .addCheckConstraint('environments_type', oneOf('type', ENVIRONMENT_TYPES))
    .addCheckConstraint('environments_status', oneOf('status', ENVIRONMENT_STATUSES))
    .execute()

  await db.schema
    .createTable('activities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('automated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by', 'text')
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('snapshot_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('bytes_done', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('bytes_total', 'bigint')
    .addColumn('items_done', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('items_total', 'bigint')
    .addColumn('phase', 'text')
    .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('worker_id', 'text')
    .addColumn('heartbeat_at', 'text')
    .addColumn('label', 'text')
    .addColumn('log_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('completed_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addForeignKeyConstraint(
      'activities_environment',
      ['project_id', 'environment'],
      'environments',
      ['project_id', 'name'],
      (fk) => fk.onDelete('cascade'),
    )
    .addCheckConstraint('activities_type', oneOf('type', ACTIVITY_TYPES))
    .addCheckConstraint('activities_state', oneOf('state', ACTIVITY_STATES))
    .addCheckConstraint('activities_result', oneOf('result', ACTIVITY_RESULTS, true))
    // `result` exists exactly when the activity is complete (STYLE.md: state with data).
    .addCheckConstraint(
      'activities_result_when_complete',
      sql`(state = 'complete') = (result is not null)`,
    )
    .execute()
  await db.schema
    .createIndex('activities_environment_created')
    .on('activities')
    .columns(['project_id', 'environment', 'created_at'])
    .execute()
  await db.schema.createIndex('activities_state').on('activities').column('state').execute()
  // The rule "one activity at a time per environment", race-free: two concurrent inserts of
  // a pending activity for one environment cannot both commit.
  await db.schema
    .createIndex('activities_one_busy')
    .on('activities')
    .columns(['project_id', 'environment'])
    .unique()
    .where(sql.ref('state'), 'in', BUSY_STATES)
    .execute()

  await db.schema
    .createTable('activity_log')
    .addColumn('activity_id', 'text', (c) =>
      c.notNull().references('activities.id').onDelete('cascade'),
    )
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('line', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('activity_log_pk', ['activity_id', 'seq'])
    .execute()

  await db.schema
    .createTable('snapshots')
    .addColumn('project_id', 'text', (c) =>
      c.notNull().references('projects.id').onDelete('cascade'),
    )
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('full_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('live', 'integer', (c) => c.notNull())
    .addColumn('automated', 'integer', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('commit_sha', 'text')
    .addColumn('created_by', 'text')
    .addColumn('pause_ms', 'integer')
    .addColumn('schedule_id', 'text')
    .addColumn('deleted_at', 'text')
    .addColumn('expired_at', 'text')
    .addPrimaryKeyConstraint('snapshots_pk', ['project_id', 'id'])
    .execute()
  await db.schema
    .createIndex('snapshots_environment_created')
    .on('snapshots')
    .columns(['project_id', 'environment', 'created_at'])
    .execute()

  await db.schema
    .createTable('schedules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('cron', 'text', (c) => c.notNull())
    .addColumn('live', 'integer', (c) => c.notNull())
    .addColumn('keep_count', 'integer')
    .addColumn('keep_days', 'integer')
    .addColumn('next_run_at', 'text', (c) => c.notNull())
    .addColumn('last_run_at', 'text')
    .addColumn('last_success_at', 'text')
    .addColumn('last_skipped_at', 'text')
    .addColumn('last_alarm_at', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addForeignKeyConstraint(
      'schedules_environment',
      ['project_id', 'environment'],
      'environments',
      ['project_id', 'name'],
      (fk) => fk.onDelete('cascade'),
    )
    .addCheckConstraint('schedules_kind', oneOf('kind', SCHEDULE_KINDS))
    .execute()
  await db.schema.createIndex('schedules_next_run').on('schedules').column('next_run_at').execute()

  await db.schema
    .createTable('channels')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) =>
      c.notNull().references('projects.id').onDelete('cascade'),
    )
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('secret', 'text')
    .addColumn('on_failure', 'integer', (c) => c.notNull())
    .addColumn('on_success', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addCheckConstraint('channels_kind', oneOf('kind', CHANNEL_KINDS))
    .execute()

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('channel_id', 'text', (c) =>
      c.notNull().references('channels.id').onDelete('cascade'),
    )
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('delivered_at', 'text')
    .addCheckConstraint('deliveries_state', oneOf('state', DELIVERY_STATES))
    .execute()
  await db.schema
    .createIndex('deliveries_due')
    .on('deliveries')
    .columns(['state', 'next_attempt_at'])
    .execute()

  await db.schema
    .createTable('audit')
    .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addColumn('address', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text')
    .addColumn('environment', 'text')
    .addColumn('target', 'text')
    .addColumn('detail', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('audit_project').on('audit').columns(['project_id', 'id']).execute()

  await db.schema
    .createTable('login_throttle')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'text', (c) => c.notNull())
    .addColumn('locked_until', 'text')
    .execute()

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('workers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('heartbeat_at', 'text', (c) => c.notNull())
    .execute()
}
