/**
 * @module The MySQL/MariaDB driver's physical mode: a hot `mariabackup` copy of InnoDB
 * tablespaces stored as files beside the logical driver's definitions, restored by
 * `DISCARD`/`IMPORT TABLESPACE` into a staging database and the logical driver's atomic
 * switch (docs/PHYSICAL.md; stored format docs/FORMAT.md, "MySQL physical mode"). Tables that
 * cannot be imported into a target are restored logically through a private MariaDB server
 * of this host (docs/PHYSICAL.md, "Logical fallback").
 */
export { capturePhysical, PhysicalCapture } from './physical-capture.js'
export type { PhysicalCaptureOptions, PhysicalCaptureResult } from './physical-capture.js'
export { probePhysical } from './physical-probe.js'
export type { PhysicalProbe } from './physical-probe.js'
export { previewPhysicalRestore, restorePhysical } from './physical-restore.js'
export type { PhysicalRestoreOptions, PhysicalRestoreResult } from './physical-restore.js'
export type { FallbackReason } from './logical-fallback.js'
export { parsePhysicalDatabaseEntry, parsePhysicalServiceEntry } from './physical-entry.js'
export type {
  FileDigest,
  PhysicalDatabaseEntry,
  PhysicalServiceEntry,
  PhysicalTableEntry,
} from './physical-entry.js'
export { dropSideDatabases } from './side-cleanup.js'
export { MARIABACKUP } from './mariabackup.js'
