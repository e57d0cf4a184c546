/**
 * @module The client side of the `coffer` command: the REST API client (problem details to
 * CofferError), the stored sign-in, git-checkout inference of project and environment,
 * output formats, and following an activity to its end.
 */
export { ApiClient, problemError } from './api-client.js'
export type { RequestOptions, SseEvent } from './api-client.js'
export {
  ActivityJson,
  BackupJson,
  EnvironmentJson,
  GrantJson,
  LoginResultJson,
  LogLineJson,
  MeJson,
  MYSQL_MODES,
  parseAs,
  ProjectJson,
  RestorePreviewJson,
  ScheduleJson,
  TokenJson,
  UserJson,
} from './api-types.js'
export type {
  Activity,
  Backup,
  Environment,
  LogLine,
  MysqlMode,
  Project,
  RestorePreview,
} from './api-types.js'
export { adviseNoWait, waitOrReturn } from './activity-run.js'
export { followActivity, outcomeLine, progressBar } from './activity-wait.js'
export type { WaitDisplay } from './activity-wait.js'
export {
  authFile,
  configDir,
  readAuth,
  removeAuth,
  resolveConnection,
  writeAuth,
} from './auth-store.js'
export type { Connection, StoredAuth } from './auth-store.js'
export {
  clientCommand,
  clientContext,
  connect,
  envPath,
  envTarget,
  projectPath,
  target,
} from './client-context.js'
export type { ClientContext, CommonFlags } from './client-context.js'
export {
  ActivityFailedError,
  CLIENT_EXIT,
  ClientExitError,
  ConnectionError,
} from './client-errors.js'
export { findCheckout, readRemoteConfig, REMOTE_CONFIG, writeRemoteConfig } from './git-checkout.js'
export type { Checkout, RemoteConfig } from './git-checkout.js'
export { ask, askHidden, confirm, readStdin } from './prompt.js'
export { resolveEnvironment, resolveTarget } from './target.js'
export type { Target, TargetFlags } from './target.js'
export {
  formatDate,
  formatElapsed,
  formatSize,
  FORMATS,
  parseFormat,
  pickColumns,
  renderProperties,
  renderRows,
} from './table-output.js'
export type { Column, Format } from './table-output.js'
