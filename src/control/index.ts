/**
 * @module The control plane: users, tokens and sessions, operators and per-project roles,
 * projects and environments, activities (one at a time per environment), the rules of who
 * may do what, the catalog of snapshots, schedules and the scheduler, notifications, the
 * audit log and metrics. No HTTP and no SQL strings: the API calls these functions, the
 * job runners call the executor, and everything takes a `ControlContext` last.
 */
export { accessOf, atLeast } from './access.js'
export type { Access } from './access.js'
export type { Actor } from './actor.js'
export {
  activityLog,
  cancelActivity,
  getActivity,
  listActivities,
  readActivity,
  readLog,
  requestDeleteSnapshot,
  requestRestore,
  requestSnapshot,
} from './activities.js'
export type { ActivityFilter, LogLine } from './activities.js'
export { DELETE_REASONS, RESTORE_PART } from './activity-params.js'
export type { ActivityParams, DeleteReason } from './activity-params.js'
export {
  executeActivity,
  INTERRUPTED_MESSAGE,
  recoverInterrupted,
  SHUTDOWN_MESSAGE,
} from './activity-runner.js'
export { activityView, describeActivity } from './activity-view.js'
export type { ActivityProgress, ActivityView } from './activity-view.js'
export { AUDIT_ACTIONS, listAudit } from './audit-log.js'
export type { AuditAction, AuditView } from './audit.js'
export { DEFAULT_CONTROL_CONFIG } from './context.js'
export type { ControlConfig, ControlContext, WorkerIdentity } from './context.js'
export { interval, nextRun, parseCron } from './cron.js'
export type { Cron } from './cron.js'
export {
  createEnvironment,
  deleteEnvironment,
  getEnvironment,
  listEnvironments,
  updateEnvironment,
} from './environments.js'
export type {
  Capability,
  EnvironmentInput,
  EnvironmentPatch,
  EnvironmentView,
} from './environments.js'
export { listGrants, removeGrant, setGrant } from './grants.js'
export type { GrantView } from './grants.js'
export { ACTIVITY_ID, newRowId } from './ids.js'
export { loadMasterKey, MASTER_KEY_FILE, parseMasterKey } from './master-key.js'
export { storeHealthy, storeMetrics } from './metrics.js'
export type { MetricFamily, Sample } from './metrics.js'
export { ENVIRONMENT_NAME, LABEL, PASSWORD, PROJECT_ID, USER_NAME } from './names.js'
export { createChannel, deleteChannel, listChannels } from './notifications/channels.js'
export type { ChannelInput, ChannelView } from './notifications/channels.js'
export {
  deliverDue,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from './notifications/delivery.js'
export { NOTIFICATION_EVENTS } from './notifications/events.js'
export type { NotificationBody, NotificationEvent } from './notifications/events.js'
export { sendMail, SMTP_SECURITY } from './notifications/smtp-client.js'
export type { MailMessage, SmtpSecurity, SmtpServer } from './notifications/smtp-client.js'
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './paging.js'
export type { Page, PageRequest } from './paging.js'
export {
  DEFAULT_PASSWORD_COST,
  hashPassword,
  TEST_PASSWORD_COST,
  verifyPassword,
} from './passwords.js'
export type { PasswordCost } from './passwords.js'
export type {
  ActivityJob,
  ActivityQueuePort,
  RepositoryInitializer,
  RepositoryOpener,
  RepositoryTarget,
  SnapshotsPort,
} from './ports.js'
export {
  createProject,
  deleteProject,
  getProject,
  listProjects,
  repoSecretPurpose,
  projectRepository,
  updateProject,
} from './projects.js'
export type { ProjectView, RepositoryInput } from './projects.js'
export { repositories } from './repositories.js'
export type { RepositoriesOptions } from './repositories.js'
export { checkProjectRepository, repositoryHealth } from './repository-health.js'
export type {
  RepositoryCheckView,
  RepositoryFigures,
  RepositoryHealthView,
} from './repository-health.js'
export {
  REPOSITORY_HISTORY_MAX_DAYS,
  REPOSITORY_HISTORY_MAX_SAMPLES,
  repositoryHistory,
} from './repository-history.js'
export type { RepositorySizeSample } from './repository-history.js'
export { sampleRepositorySize } from './repository-history-sampler.js'
export { S3_BUCKET_LOOKUPS } from './repository-settings.js'
export type { RepositoryS3Settings } from './repository-settings.js'
export { previewRestore } from './restore-preview.js'
export type { RestorePreviewView } from './restore-preview.js'
export { decide, MESSAGES, RULES, SNAPSHOT_ACTIONS, stateRefusal } from './rules.js'
export type { Requester, RuleFacts, SnapshotAction, StateFacts, Verdict } from './rules.js'
export { planRetention, schedulerTick } from './scheduler.js'
export {
  AUTOMATIC_CRON,
  hasAutomaticBackups,
  syncAutomaticSchedules,
} from './automatic-schedules.js'
export type { TickReport } from './scheduler.js'
export { createSchedule, deleteSchedule, listSchedules } from './schedules.js'
export type { ScheduleInput, ScheduleView } from './schedules.js'
export { SecretBox } from './secret-box.js'
export { getSmtpSettings, setSmtpSettings } from './settings.js'
export type { SmtpSettingsView } from './settings.js'
export { getBackup, listBackups, SNAPSHOT_STATUSES, syncCatalog } from './snapshot-catalog.js'
export type { BackupView, SnapshotStatus } from './snapshot-catalog.js'
export {
  authenticateToken,
  checkCsrf,
  createApiToken,
  csrfTokenFor,
  endSession,
  listTokens,
  revokeToken,
} from './tokens.js'
export type { TokenView } from './tokens.js'
export {
  createUser,
  deleteUser,
  ensureAdminUser,
  getUser,
  listUsers,
  login,
  updateUser,
} from './users.js'
export type { LoginResult, UserView } from './users.js'
export {
  ACTIVITY_RESULTS,
  ACTIVITY_STATES,
  ACTIVITY_TYPES,
  CHANNEL_KINDS,
  ENVIRONMENT_STATUSES,
  ENVIRONMENT_TYPES,
  PLANS,
  ROLES,
  SCHEDULE_KINDS,
  TOKEN_KINDS,
} from '../store/index.js'
export type {
  ActivityResult,
  ActivityState,
  ActivityType,
  ChannelKind,
  EnvironmentStatus,
  EnvironmentType,
  Plan,
  Role,
  ScheduleKind,
  TokenKind,
} from '../store/index.js'
