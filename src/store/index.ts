/**
 * @module The metadata store: Kysely over SQLite (the embedded default) or PostgreSQL
 * (several machines), the schema declared once, and its migrations. No domain rules live
 * here; the control plane writes the queries.
 */
export {
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
} from './enums.js'
export type {
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
export { isPostgresLocation, openStore } from './open-store.js'
export type { OpenStoreOptions, Store } from './open-store.js'
export type {
  ActivityLogRow,
  ActivityRow,
  ActivityUpdate,
  AuditRow,
  ChannelRow,
  Database,
  DeliveryRow,
  EnvironmentRow,
  Flag,
  GrantRow,
  NewActivity,
  NewAudit,
  NewSnapshot,
  ProjectRow,
  ScheduleRow,
  SnapshotRow,
  Timestamp,
  TokenRow,
  UserRow,
  RepositoryCheckRow,
  RepositorySizeRow,
  WorkerRow,
} from './schema.js'
export { isForeignKeyViolation, isUniqueViolation } from './store-errors.js'
export { STORE_DIALECTS } from './store-dialect.js'
export type { StoreDialect } from './store-dialect.js'
