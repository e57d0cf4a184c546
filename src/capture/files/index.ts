/**
 * @module The files driver: captures directories (an environment's mounts, or any paths)
 * into a snapshot — in passes for a consistent snapshot (pre-copy, final pass inside the
 * hold) — and restores them: restic-like into a directory (`restoreFiles`), or staged then
 * switched with delta (`stageRestore`, `restoreMount`), see docs/FILES.md.
 */
export { captureFiles, FileCapture, fileChanged } from './file-capture.js'
export type {
  FileCaptureOptions,
  FileCaptureStats,
  FileSource,
  FilesWriter,
  FinalPassStats,
  ParentTrees,
} from './file-capture.js'
export { restoreFiles } from './file-restore.js'
export type { FileRestoreOptions, FileRestoreStats } from './file-restore.js'
export { previewMountRestore, restoreMount, stageRestore, SWITCH_MODES } from './mount-restore.js'
export type {
  MountRestoreOptions,
  MountRestoreProgress,
  MountRestoreStats,
  RestoreSource,
  StagedRestore,
  SwitchMode,
} from './mount-restore.js'
export type { PlanTotals } from './restore-plan.js'
export { commitStagedRestore, recoverStagedRestore } from './restore-recovery.js'
export { withMountLock } from './mount-lock.js'
export type { Recovery } from './restore-recovery.js'
export { isSafeName } from './safe-name.js'
export { nodeFromStat } from './node-from-stat.js'
