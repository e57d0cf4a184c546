import {
  PhysicalCapture,
  type MysqlSource,
  type PhysicalCaptureResult,
  type TreeReader,
} from '../capture/index.js'
import type { SnapshotWriter } from '../repo/index.js'
import { driverSteps, type ServicePart } from './capture-part.js'
import type { DatabaseService } from './environment.js'
import type { OpContext } from './op-context.js'
import { physicalServiceManifest } from './service-manifest.js'

/**
 * A database service captured physically (PhysicalCapture), as a capture part. Its steps map
 * one to one: the hot full `mariabackup` runs in prepare while the site runs; the hold is
 * the global read lock; the final step, inside the hold, copies what changed since the full
 * backup (an incremental backup) and opens the logical driver's snapshot transactions, so
 * tablespaces, the other tables and the mounts are of one moment; after the release, finish
 * prepares the backup, stores the tablespaces and dumps the rest. Live: the full backup's
 * point for the tablespaces, no hold.
 */
export function physicalServicePart(
  service: DatabaseService,
  source: MysqlSource,
  writer: SnapshotWriter,
  live: boolean,
  ctx: OpContext,
  parent?: TreeReader,
): ServicePart {
  const capture = new PhysicalCapture(source, writer, ctx, {
    service: service.name,
    live,
    ...(parent ? { parent } : {}),
  })
  let result: PhysicalCaptureResult | undefined
  return {
    kind: 'service',
    label: `database service ${service.name}`,
    ...driverSteps(capture),
    finish: async () => {
      result = await capture.finish()
      const r = result
      ctx.logLine(
        `Database service ${service.name}: ${r.physical.length} table${r.physical.length === 1 ? '' : 's'} stored as tablespaces, ${r.logical.length} logically (backup ${r.backupMs} ms, under the hold ${r.incrementalMs} ms, prepare ${r.prepareMs} ms, store ${r.storeMs} ms)`,
      )
      if (r.hashesReused > 0)
        ctx.logLine(
          `Database service ${service.name}: ${r.hashesReused} of the tablespaces' tables unchanged since the last consistent snapshot, their rows not read again`,
        )
      if (r.skipped.length > 0)
        ctx.logLine(
          `Database service ${service.name}: stored logically, as mariabackup left their tablespaces out (imported since the server's last checkpoint): ${r.skipped.join(', ')}`,
        )
      const nonTransactional = r.logicalResult.nonTransactional
      if (nonTransactional.length > 0)
        ctx.logLine(
          `Database service ${service.name}: tables without transactions (read under the lock only in consistent mode): ${nonTransactional.join(', ')}`,
        )
    },
    manifest: () => physicalServiceManifest(service, result),
  }
}
