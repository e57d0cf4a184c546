/**
 * @module Environment snapshots: turns an environment (database services and mounts) into
 * one Coffer snapshot — consistent or live — and back, staged then switched. Knows nothing
 * of users, activities or HTTP; the control plane calls it.
 */
export type {
  CreateSnapshotRequest,
  RestoreCommitPoint,
  RestoreCommitRecord,
  RestorePart,
  RestorePreview,
  RestoreResult,
  SnapshotInfo,
} from './api-types.js'
export { createEnvironmentSnapshot, HOLD_TIMEOUT_MS } from './create-snapshot.js'
export { deleteSnapshots } from './delete-snapshots.js'
export { DATABASE_MODES, ENVIRONMENT_TYPES, PLANS } from './environment.js'
export type {
  DatabaseMode,
  DatabaseService,
  EnvironmentSpec,
  EnvironmentType,
  MaintenanceHooks,
  Mount,
  Plan,
} from './environment.js'
export { latestEnvironmentSnapshot, listEnvironmentSnapshots } from './list-snapshots.js'
export { assertMountsApart } from './mount-overlap.js'
export { MANIFEST_FORMAT, MANIFEST_PATH, parseManifest } from './manifest.js'
export type { Manifest } from './manifest.js'
export type { OpContext } from './op-context.js'
export { cleanupStaging, previewRestore, restoreEnvironment } from './restore.js'
export { DEFAULT_RESTORE_WINDOW_MS, expiresAt, isRestorable } from './restore-window.js'
export { parseTags, snapshotTags } from './snapshot-tags.js'
export { DEFAULT_THINNING, planThinning } from './thinning.js'
export type { ThinningDecision, ThinningTier } from './thinning.js'
