import { MysqlCapture, parseMysqlUrl, type MysqlCaptureResult } from '../capture/index.js'
import type { SnapshotWriter } from '../repo/index.js'
import { driverSteps, type ServicePart } from './capture-part.js'
import { chooseCaptureMode } from './database-mode.js'
import type { DatabaseService } from './environment.js'
import type { OpContext } from './op-context.js'
import { physicalServicePart } from './physical-service-part.js'
import { logicalServiceManifest } from './service-manifest.js'

/**
 * A database service as a capture part (MySQL/MariaDB through capture/mysql), logical or
 * physical as chooseCaptureMode decides (before any hold; an impossible `physical` rejects
 * here). Logically the driver's steps map one to one: its hold is the global read lock, its
 * final step opens the snapshot transactions, and the long dump runs in finish, after the
 * release, from those transactions.
 */
export async function servicePart(
  service: DatabaseService,
  writer: SnapshotWriter,
  live: boolean,
  ctx: OpContext,
): Promise<ServicePart> {
  const source = parseMysqlUrl(service.url)
  if ((await chooseCaptureMode(service, source, ctx)) === 'physical')
    return physicalServicePart(service, source, writer, live, ctx)
  const capture = new MysqlCapture(source, writer, ctx, { service: service.name, live })
  let result: MysqlCaptureResult | undefined
  return {
    kind: 'service',
    label: `database service ${service.name}`,
    ...driverSteps(capture),
    finish: async () => {
      result = await capture.finish()
      if (result.mode === 'single-connection')
        ctx.logLine(
          `Database service ${service.name}: no privilege for a global read lock, captured on one connection`,
        )
      if (result.nonTransactional.length > 0)
        ctx.logLine(
          `Database service ${service.name}: tables without transactions (read under the lock only in consistent mode): ${result.nonTransactional.join(', ')}`,
        )
    },
    manifest: () => logicalServiceManifest(service, result),
  }
}
