import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely'
import type {
  ActivityResult,
  ActivityState,
  ActivityType,
  ChannelKind,
  DeliveryState,
  EnvironmentStatus,
  EnvironmentType,
  Plan,
  Role,
  ScheduleKind,
  TokenKind,
} from './enums.js'

/**
 * Every table of the metadata store, declared once (STYLE.md, "Types"). Rows are derived
 * from these with `Selectable`/`Insertable`/`Updateable`, never restated elsewhere.
 *
 * Portable column conventions, the same on SQLite and PostgreSQL:
 * - timestamps are ISO 8601 strings in UTC (`Date.toISOString()`), so they sort as text;
 * - flags are integers 0 or 1 (SQLite has no boolean type);
 * - JSON documents are text, parsed with zod where they are read;
 * - secrets are sealed text (AES-256-GCM under the master key), never plain.
 */

/** ISO 8601 UTC timestamp, e.g. `2026-03-08T17:07:01.000Z`. */
export type Timestamp = string
/** A boolean stored as 0 or 1. */
export type Flag = 0 | 1

export interface UsersTable {
  id: string
  name: string
  /** scrypt hash (`scrypt$N$r$p$salt$hash`); null for users who may not sign in with one. */
  password_hash: string | null
  operator: Flag
  created_at: Timestamp
}

export interface TokensTable {
  id: string
  user_id: string
  /** `api`: a named bearer token; `session`: a console sign-in (cookie or login token). */
  kind: TokenKind
  name: string
  /** SHA-256 of the token, hex: the token itself is shown once and never stored. */
  hash: string
  created_at: Timestamp
  last_used_at: Timestamp | null
  expires_at: Timestamp | null
}

export interface ProjectsTable {
  id: string
  title: string
  plan: Plan
  /** Where the project's repository lives: a directory or an `s3:` location. */
  repo_location: string
  /** The repository password, sealed. */
  repo_secret: string
  /** The project's own repository settings (S3 credentials…) as JSON, sealed; null: none. */
  repo_options: ColumnType<string | null, string | null | undefined, string | null>
  created_at: Timestamp
}

export interface GrantsTable {
  user_id: string
  project_id: string
  /** '' for the whole project, else the environment the role overrides. */
  environment: string
  role: Role
  created_at: Timestamp
}

export interface EnvironmentsTable {
  project_id: string
  name: string
  type: EnvironmentType
  status: EnvironmentStatus
  /** JSON list of `{ name, path }`. */
  mounts: string
  /** Sealed JSON `{ services, hooks }`: database URLs and hook commands are secrets. */
  secret_spec: string
  /** Names of the services (not secret), JSON list, so listing needs no decryption. */
  service_names: string
  git_dir: string | null
  /** Worker label the environment is pinned to; null for any worker. */
  label: string | null
  /** Set when an activity was interrupted; the next runner cleans staging first. */
  staging_dirty: Flag
  /**
   * A restore's decision (RestoreCommitRecord as JSON) while it finishes; left set by a
   * process that died past the point of no return, for the staging cleanup to finish it.
   */
  restore_decision: string | null
  created_at: Timestamp
}

export interface ActivitiesTable {
  id: string
  project_id: string
  environment: string
  type: ActivityType
  state: ActivityState
  result: ActivityResult | null
  automated: Flag
  /** Name of the user who started it; null for the scheduler. */
  created_by: string | null
  /** JSON parameters of the activity (live, snapshot, target, only, ids, schedule). */
  params: string
  /** The snapshot the activity created, restored or deleted (short ID). */
  snapshot_id: string | null
  error_code: string | null
  error_message: string | null
  bytes_done: ColumnType<number, number | undefined, number>
  bytes_total: number | null
  items_done: ColumnType<number, number | undefined, number>
  items_total: number | null
  phase: string | null
  cancel_requested: ColumnType<Flag, Flag | undefined, Flag>
  /** The worker running it, and when that worker last said it was alive. */
  worker_id: string | null
  heartbeat_at: Timestamp | null
  /** Label of the environment when the activity was created (where it must run). */
  label: string | null
  log_count: ColumnType<number, number | undefined, number>
  created_at: Timestamp
  started_at: Timestamp | null
  completed_at: Timestamp | null
  updated_at: Timestamp
}

export interface ActivityLogTable {
  activity_id: string
  seq: number
  at: Timestamp
  line: string
}

/** What the control plane knows of the snapshots in the repositories (a catalog). */
export interface SnapshotsTable {
  project_id: string
  /** Short ID (8 hex digits). */
  id: string
  full_id: string
  environment: string
  created_at: Timestamp
  live: Flag
  automated: Flag
  size: number
  commit_sha: string | null
  created_by: string | null
  pause_ms: number | null
  schedule_id: string | null
  /** Set when a user deleted the snapshot: hidden from lists. */
  deleted_at: Timestamp | null
  /** Set when the expiry removed its data: listed, not restorable. */
  expired_at: Timestamp | null
}

export interface SchedulesTable {
  id: string
  project_id: string
  environment: string
  /** `automatic`: hourly backups of Pro staging/production; `cron`: a user's schedule. */
  kind: ScheduleKind
  cron: string
  live: Flag
  /** Retention of a cron schedule: keep the newest N, and/or those younger than D days. */
  keep_count: number | null
  keep_days: number | null
  next_run_at: Timestamp
  last_run_at: Timestamp | null
  last_success_at: Timestamp | null
  last_skipped_at: Timestamp | null
  /** When the dead man's switch last warned (once per silence). */
  last_alarm_at: Timestamp | null
  created_by: string | null
  created_at: Timestamp
}

export interface ChannelsTable {
  id: string
  project_id: string
  kind: ChannelKind
  /** E-mail address, or a webhook's URL in a form safe to show (`https://host/…`). */
  target: string
  /** A webhook's full URL, sealed; null for e-mail (and webhooks made before it existed). */
  target_sealed: ColumnType<string | null, string | null | undefined, string | null>
  /** Webhook signing secret, sealed; null for e-mail. */
  secret: string | null
  on_failure: Flag
  on_success: Flag
  created_at: Timestamp
}

export interface DeliveriesTable {
  id: string
  channel_id: string
  /** JSON event body. */
  event: string
  attempts: number
  state: DeliveryState
  next_attempt_at: Timestamp
  last_error: string | null
  created_at: Timestamp
  delivered_at: Timestamp | null
}

export interface AuditTable {
  /** Filled by the database (SQLite rowid, PostgreSQL serial): the log's order. */
  id: Generated<number>
  at: Timestamp
  actor: string | null
  address: string | null
  action: string
  project_id: string | null
  environment: string | null
  target: string | null
  /** JSON details (never a secret). */
  detail: string
}

export interface LoginThrottleTable {
  /** `user:<name>` or `addr:<address>`. */
  key: string
  failures: number
  window_start: Timestamp
  locked_until: Timestamp | null
}

export interface SettingsTable {
  key: string
  /** JSON; sealed where the setting holds a secret (SMTP password). */
  value: string
}

export interface RepositoryChecksTable {
  id: string
  project_id: string
  checked_at: Timestamp
  duration_ms: number
  /** 1 when every pack was read and verified, 0 for the structure only. */
  read_data: Flag
  errors: number
  snapshots: number
  packs: number
  packs_read: number
  /** JSON array of the first error messages (at most 20). */
  findings: string
  checked_by: string
}

/**
 * A project's repository size over time: one sample per project and minute, the figures of
 * its health (src/control/repository-health.ts) when they were last computed in that minute.
 */
export interface RepositorySizesTable {
  project_id: string
  /** The minute the figures were taken (seconds zero): a later sample in it replaces them. */
  taken_at: Timestamp
  /** Bytes of data packs in the storage. */
  stored_bytes: number
  packs: number
  /** Snapshots in the catalog then (not deleted, not expired), and their sizes summed. */
  snapshots: number
  snapshot_bytes: number
}

export interface WorkersTable {
  id: string
  hostname: string
  pid: number
  /** JSON list of labels the worker serves; [] for unlabelled environments only. */
  labels: string
  started_at: Timestamp
  heartbeat_at: Timestamp
}

export interface Database {
  users: UsersTable
  tokens: TokensTable
  projects: ProjectsTable
  grants: GrantsTable
  environments: EnvironmentsTable
  activities: ActivitiesTable
  activity_log: ActivityLogTable
  snapshots: SnapshotsTable
  schedules: SchedulesTable
  channels: ChannelsTable
  deliveries: DeliveriesTable
  audit: AuditTable
  login_throttle: LoginThrottleTable
  settings: SettingsTable
  workers: WorkersTable
  repository_checks: RepositoryChecksTable
  repository_sizes: RepositorySizesTable
}

export type UserRow = Selectable<UsersTable>
export type TokenRow = Selectable<TokensTable>
export type ProjectRow = Selectable<ProjectsTable>
export type GrantRow = Selectable<GrantsTable>
export type EnvironmentRow = Selectable<EnvironmentsTable>
export type ActivityRow = Selectable<ActivitiesTable>
export type NewActivity = Insertable<ActivitiesTable>
export type ActivityUpdate = Updateable<ActivitiesTable>
export type ActivityLogRow = Selectable<ActivityLogTable>
export type SnapshotRow = Selectable<SnapshotsTable>
export type NewSnapshot = Insertable<SnapshotsTable>
export type ScheduleRow = Selectable<SchedulesTable>
export type ChannelRow = Selectable<ChannelsTable>
export type DeliveryRow = Selectable<DeliveriesTable>
export type AuditRow = Selectable<AuditTable>
export type NewAudit = Insertable<AuditTable>
export type WorkerRow = Selectable<WorkersTable>
export type RepositoryCheckRow = Selectable<RepositoryChecksTable>
export type RepositorySizeRow = Selectable<RepositorySizesTable>
