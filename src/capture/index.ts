/**
 * @module Capture drivers: one per kind of environment data (files for mounts; databases),
 * each writing into and restoring from a snapshot tree through the ports in ports.ts.
 */
export { captureFiles, fileChanged, isSafeName, nodeFromStat, restoreFiles } from './files/index.js'
export type {
  FileCaptureOptions,
  FileCaptureStats,
  FileRestoreOptions,
  FileRestoreStats,
  FileSource,
  FilesWriter,
} from './files/index.js'
export type { DriverContext, Progress, TreeEntry, TreeReader, TreeWriter } from './ports.js'
