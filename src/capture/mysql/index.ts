/**
 * @module The MySQL/MariaDB driver: a consistent, parallel capture of a server's databases
 * into `services/<service>/` of a snapshot tree, and an atomic, delta restore from it
 * (docs/MYSQL.md; the stored format is docs/FORMAT.md, "MySQL service").
 */
export { captureMysql, MysqlCapture } from './mysql-capture.js'
export type { MysqlCaptureOptions, MysqlCaptureResult } from './mysql-capture.js'
export { describeMysqlSource, parseMysqlUrl, SYSTEM_DATABASES } from './mysql-source.js'
export type { MysqlSource } from './mysql-source.js'
export { parseDatabaseEntry } from './database-entry.js'
export type {
  DatabaseEntry,
  ObjectEntry,
  PartEntry,
  TableEntry,
  ViewEntry,
} from './database-entry.js'
export { fileNameOf, identifierOf } from './names.js'
export {
  previewMysqlRestore,
  restoreMysql,
  RESTORE_PHASES,
  STAGING_SPACE_FACTOR,
} from './mysql-restore.js'
export type {
  MysqlRestoreOptions,
  MysqlRestorePlan,
  MysqlRestoreResult,
  RestorePhase,
} from './mysql-restore.js'
export { cleanupStaging } from './stage-cleanup.js'
export { recoverMysqlRestores } from './restore-journal.js'
export { preloadMysqlClient } from './session.js'
export { snapshotTreeReader } from './snapshot-tree-reader.js'
