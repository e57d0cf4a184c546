import { MysqlCapture, parseMysqlUrl, type MysqlCaptureResult } from '../capture/index.js'
import { CofferError } from '../errors.js'
import type { SnapshotWriter } from '../repo/index.js'
import type { ServicePart } from './capture-part.js'
import type { DatabaseService } from './environment.js'
import type { ServiceManifest } from './manifest.js'
import type { OpContext } from './op-context.js'

/**
 * A database service as a capture part (MySQL/MariaDB through capture/mysql). The driver's
 * steps map one to one: its hold is the global read lock, its final step opens the snapshot
 * transactions, and the long dump runs in finish, after the release, from those transactions.
 */
export async function servicePart(
  service: DatabaseService,
  writer: SnapshotWriter,
  live: boolean,
  ctx: OpContext,
): Promise<ServicePart> {
  if (service.mode === 'physical')
    throw new CofferError(
      'capture_failed',
      `Database service ${service.name}: physical mode is not available in this build; use logical or auto.`,
    )
  const source = parseMysqlUrl(service.url)
  const capture = new MysqlCapture(source, writer, ctx, { service: service.name, live })
  let result: MysqlCaptureResult | undefined
  return {
    kind: 'service',
    label: `database service ${service.name}`,
    prepare: () => capture.prepare(),
    hold: () => capture.hold(),
    final: () => capture.final(),
    release: () => capture.release(),
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
    abort: () => capture.abort(),
    manifest: () => serviceManifest(service, requireResult(result, service)),
  }
}

function requireResult(
  r: MysqlCaptureResult | undefined,
  service: DatabaseService,
): MysqlCaptureResult {
  if (!r)
    throw new CofferError('capture_failed', `Database service ${service.name} did not finish.`)
  return r
}

function serviceManifest(service: DatabaseService, r: MysqlCaptureResult): ServiceManifest {
  return {
    name: service.name,
    kind: 'mysql',
    engine: /mariadb/i.test(r.serverVersion) ? 'mariadb' : 'mysql',
    version: r.serverVersion,
    mode: 'logical',
    bytes: r.bytes,
    databases: r.databases.map((d) => ({
      name: d.name,
      bytes: d.tables.reduce((n, t) => n + t.bytes, 0),
      tables: d.tables.map((t) => ({ name: t.name, rows: t.rows, bytes: t.bytes, hash: t.sha256 })),
    })),
    details: {
      captureMode: r.mode,
      lockMs: r.lockMs,
      ...(r.binlog ? { binlog: r.binlog } : {}),
      nonTransactional: r.nonTransactional,
    },
  }
}
