import {
  MysqlCapture,
  parseMysqlUrl,
  type MysqlCaptureResult,
  type TreeReader,
} from '../capture/index.js'
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
 * release, from those transactions. Tables unchanged since the `parent` snapshot (the
 * environment's previous one) are stored from it unread.
 */
export async function servicePart(
  service: DatabaseService,
  writer: SnapshotWriter,
  live: boolean,
  ctx: OpContext,
  parent?: TreeReader,
): Promise<ServicePart> {
  const source = parseMysqlUrl(service.url)
  if ((await chooseCaptureMode(service, source, ctx)) === 'physical')
    return physicalServicePart(service, source, writer, live, ctx, parent)
  const capture = new MysqlCapture(source, writer, ctx, {
    service: service.name,
    live,
    ...(parent ? { parent } : {}),
  })
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
      if (result.reused.length > 0)
        ctx.logLine(
          `Database service ${service.name}: ${plural(result.reused.length, 'table')} unchanged since the last consistent snapshot, stored without reading them`,
        )
      if (result.nonTransactional.length > 0)
        ctx.logLine(
          `Database service ${service.name}: tables without transactions (read under the lock only in consistent mode): ${result.nonTransactional.join(', ')}`,
        )
      if (result.historyNotStored.length > 0)
        ctx.logLine(
          `Database service ${service.name}: system-versioned tables stored without their history (transaction-precise versioning): ${result.historyNotStored.join(', ')}`,
        )
    },
    manifest: () => logicalServiceManifest(service, result),
  }
}

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`
