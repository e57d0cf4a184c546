/**
 * @module Capture drivers: one per kind of environment data (files for mounts; databases),
 * each writing into and restoring from a snapshot tree through the ports in ports.ts.
 */
export {
  captureFiles,
  FileCapture,
  fileChanged,
  isSafeName,
  nodeFromStat,
  previewMountRestore,
  commitStagedRestore,
  recoverStagedRestore,
  withMountLock,
  restoreFiles,
  restoreMount,
  stageRestore,
  SWITCH_MODES,
} from './files/index.js'
export type {
  FileCaptureOptions,
  FileCaptureStats,
  FileRestoreOptions,
  FileRestoreStats,
  FileSource,
  FilesWriter,
  FinalPassStats,
  MountRestoreOptions,
  MountRestoreProgress,
  MountRestoreStats,
  ParentTrees,
  PlanTotals,
  Recovery,
  RestoreSource,
  StagedRestore,
  SwitchMode,
} from './files/index.js'
export type { DriverContext, Progress, TreeEntry, TreeReader, TreeWriter } from './ports.js'
export {
  captureMysql,
  MysqlCapture,
  parseMysqlUrl,
  preloadMysqlClient,
  previewMysqlRestore,
  recoverMysqlRestores,
  restoreMysql,
  snapshotTreeReader,
} from './mysql/index.js'
export type {
  MysqlCaptureOptions,
  MysqlCaptureResult,
  MysqlRestoreOptions,
  MysqlRestorePlan,
  MysqlRestoreResult,
  MysqlSource,
} from './mysql/index.js'
export {
  PhysicalCapture,
  previewPhysicalRestore,
  probePhysical,
  restorePhysical,
} from './mysql/physical/index.js'
export type {
  PhysicalCaptureResult,
  PhysicalProbe,
  PhysicalRestoreOptions,
  PhysicalRestoreResult,
} from './mysql/physical/index.js'
