/**
 * @module The files driver: captures directories (an environment's mounts, or any paths)
 * into a snapshot and restores them, with restic's node metadata and change detection.
 */
export { captureFiles, fileChanged } from './file-capture.js'
export type {
  FileCaptureOptions,
  FileCaptureStats,
  FileSource,
  FilesWriter,
} from './file-capture.js'
export { restoreFiles } from './file-restore.js'
export type { FileRestoreOptions, FileRestoreStats } from './file-restore.js'
export { isSafeName } from './safe-name.js'
export { nodeFromStat } from './node-from-stat.js'
