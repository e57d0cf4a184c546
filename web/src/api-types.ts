/**
 * The shapes of the REST API's JSON, as described by /api/openapi.json (src/api/schemas).
 * Only what the console reads is declared.
 */

export const PLANS = ['starter', 'pro'] as const
export type Plan = (typeof PLANS)[number]
export const ENVIRONMENT_TYPES = ['production', 'staging', 'integration'] as const
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number]
export const ROLES = ['admin', 'contributor', 'viewer'] as const
export type Role = (typeof ROLES)[number]
export type Access = Role | 'none'
/** How a database service is captured (docs/PHYSICAL.md); `logical` when not given. */
export const DATABASE_MODES = ['logical', 'physical', 'auto'] as const
export type DatabaseMode = (typeof DATABASE_MODES)[number]
/** How an S3 bucket is addressed: by the server's rule, in the path, or in the host name. */
export const BUCKET_LOOKUPS = ['auto', 'path', 'dns'] as const
export type BucketLookup = (typeof BUCKET_LOOKUPS)[number]

export interface User {
  readonly id: string
  readonly name: string
  readonly operator: boolean
  readonly created_at: string
}

export interface Me {
  readonly user: User
  readonly via: 'token' | 'session'
  readonly csrf_token?: string
}

export interface LoginResult {
  readonly csrf_token?: string
  readonly expires_at: string
  readonly user: User
}

export interface Project {
  readonly id: string
  readonly title: string
  readonly plan: Plan
  readonly repository: string
  readonly created_at: string
  readonly role: Access
}

export interface Capability {
  readonly allowed: boolean
  readonly reason?: string
}

/** A database service of an environment; `url` is shown without its password. */
export interface Service {
  readonly name: string
  readonly kind: 'mysql'
  readonly url: string
  readonly mode: DatabaseMode
}

export interface Environment {
  readonly project: string
  readonly name: string
  readonly type: EnvironmentType
  readonly status: 'active' | 'inactive'
  readonly services: readonly Service[]
  readonly mounts: readonly { name: string; path: string }[]
  readonly git_dir: string | null
  readonly label: string | null
  readonly created_at: string
  readonly role: Access
  readonly active_activity: string | null
  readonly automatic_backups: boolean
  readonly can_create_snapshot: Capability
}

export interface Backup {
  readonly id: string
  readonly project: string
  readonly environment: string
  readonly created_at: string
  readonly restorable: boolean
  readonly expires_at: string | null
  readonly automated: boolean
  readonly live: boolean
  readonly size: number
  readonly commit: string | null
  readonly created_by: string | null
  readonly pause_ms: number | null
  readonly status: 'available' | 'expired'
}

export const ACTIVITY_STATES = ['pending', 'in_progress', 'complete', 'cancelled'] as const
export type ActivityState = (typeof ACTIVITY_STATES)[number]

export interface Activity {
  readonly id: string
  readonly project: string
  readonly environment: string
  readonly type: string
  readonly state: ActivityState
  readonly result: 'success' | 'failure' | null
  readonly automated: boolean
  readonly created_by: string | null
  readonly description: string
  readonly parameters: Record<string, unknown>
  readonly snapshot: string | null
  readonly progress: {
    readonly bytes_done: number
    readonly bytes_total: number | null
    readonly items_done: number
    readonly items_total: number | null
    readonly phase: string | null
    readonly percent: number | null
  }
  readonly error: { code: string; message: string } | null
  readonly cancel_requested: boolean
  readonly log_lines: number
  readonly created_at: string
  readonly started_at: string | null
  readonly updated_at: string
  readonly completed_at: string | null
}

export interface LogLine {
  readonly seq: number
  readonly at: string
  readonly line: string
}

/** What a restore may be limited to (`only`). */
export type RestorePart = { readonly kind: 'services' } | { readonly kind: 'mounts' }

export interface RestorePreview {
  readonly backup: Backup
  readonly target: string
  readonly age_ms: number
  readonly databases: readonly {
    service: string
    database: string
    tables: number
    bytes: number
    changed_tables: number
  }[]
  readonly mounts: readonly {
    mount: string
    files: number
    bytes: number
    changed_files: number
    changed_bytes: number
  }[]
  readonly bytes_to_restore: number
  readonly estimated_ms: number
}

export interface Page<T> {
  readonly items: readonly T[]
  readonly next_cursor: string | null
}

export interface Grant {
  readonly user: string
  readonly environment: string | null
  readonly role: Role
  readonly created_at: string
}

export interface Schedule {
  readonly id: string
  readonly project: string
  readonly environment: string
  readonly kind: string
  readonly cron: string
  readonly live: boolean
  readonly keep_count: number | null
  readonly keep_days: number | null
  readonly next_run_at: string
  readonly last_run_at: string | null
  readonly last_success_at: string | null
  readonly last_skipped_at: string | null
}

export interface Channel {
  readonly id: string
  readonly project: string
  readonly kind: string
  readonly target: string
  readonly on_failure: boolean
  readonly on_success: boolean
  readonly created_at: string
}

export interface AuditEntry {
  readonly id: number
  readonly at: string
  readonly actor: string | null
  readonly address: string | null
  readonly action: string
  readonly project: string | null
  readonly environment: string | null
  readonly target: string | null
}

export interface RepositoryCheck {
  readonly checked_at: string
  readonly duration_ms: number
  readonly read_data: boolean
  readonly errors: number
  readonly snapshots: number
  readonly packs: number
  readonly packs_read: number
  readonly findings: readonly string[]
  readonly checked_by: string
}

export interface RepositoryHealth {
  readonly project: string
  readonly location: string
  readonly stored_bytes: number
  readonly packs: number
  readonly snapshots: number
  readonly snapshot_bytes: number
  readonly deduplication_ratio: number | null
  readonly last_check: RepositoryCheck | null
}

/** One sample of a repository's size: the health's figures at a minute. */
export interface RepositorySizeSample {
  readonly taken_at: string
  readonly stored_bytes: number
  readonly packs: number
  readonly snapshots: number
  readonly snapshot_bytes: number
}
